/**
 * One full, memory-reducing collection, as DevTools' "collect garbage" does.
 * fw-server runs it once when the control plane has started and before it
 * says it is ready, so that its idle footprint is what it holds rather than
 * what loading it left behind, and again when it falls idle after a burst
 * ({@link IdleCollector}).
 *
 * Why: loading the modules grows V8's young generation to 16 MiB per
 * semispace and leaves their start-up garbage in it; V8 gives that back only
 * when its memory reducer runs (10-30 s without work) or the program
 * allocates again. Measured (`bench/experiments/memory-idle.mjs`, median of 5
 * starts): 84.2 MiB RSS at the ready line before, 67.7 after, the same as
 * after DevTools' "collect garbage"; the collection takes 30-40 ms, once.
 * A plain `gc()` (`--expose-gc`) does not do it: it keeps the young
 * generation's size (85.0 MiB). DevTools' collection is
 * `Isolate::LowMemoryNotification`, which Node reaches only through the
 * inspector protocol; an in-process session opens no port.
 *
 * At start it runs before the ready line, while nothing has been submitted:
 * it cannot pause a busy server.
 */
export async function collectGarbage(): Promise<void> {
  let inspector: typeof import("node:inspector");
  try {
    inspector = await import("node:inspector");
  } catch (err) {
    // A Node built without the inspector (./configure --without-inspector): nothing to do.
    if ((err as NodeJS.ErrnoException).code === "ERR_INSPECTOR_NOT_AVAILABLE") return;
    throw err;
  }
  const session = new inspector.Session();
  session.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      session.post("HeapProfiler.collectGarbage", (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    session.disconnect();
  }
}
