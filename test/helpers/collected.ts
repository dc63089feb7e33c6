import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/**
 * Whether the object `make()` returns can be garbage-collected once `make`
 * returned (nothing else the test can see still references it): forces
 * collections, a bounded number of times, until its finalizer runs.
 */
export async function isCollected(make: () => object): Promise<boolean> {
  let collected = false;
  const registry = new FinalizationRegistry<string>(() => (collected = true));
  registry.register(make(), "watched");
  // Bounded: 50 collections, 10 ms apart (a durable store lets go of a record once its write is done).
  for (let i = 0; i < 50 && !collected; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return collected;
}
