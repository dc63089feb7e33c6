/**
 * Compile-time checks of typed task handles (run by `npm test` through
 * `tsc -p tsconfig.test.json`). Each @ts-expect-error must be an error: if
 * the handle's types degraded to `unknown`, these lines would compile and tsc
 * would fail on the unused directive.
 */
import { Client, task, taskRef } from "../index.js";
import type { multiply } from "./fixtures/typed-tasks.js";

const multiplyTask = taskRef<typeof multiply>("multiply");
const explicit = taskRef<{ a: number; b: number }, number>("add");
const definition = task("local", (args: { s: string }) => args.s.length);

export async function typedHandles(client: Client): Promise<void> {
  const product: { product: number } = await client.run(multiplyTask, { x: 6, y: 7 });
  const sum: number = await (await client.submit(explicit, { a: 1, b: 2 })).result();
  const length: number = await client.run(definition, { s: "abc" });
  const anything: unknown = await client.run("by-name", { whatever: true });
  void [product, sum, length, anything];

  // @ts-expect-error args of the wrong type
  await client.run(multiplyTask, { x: "6", y: 7 });
  // @ts-expect-error missing args
  await client.submit(explicit, { a: 1 });
  // @ts-expect-error the result is a number, not a string
  const wrong: string = await client.run(explicit, { a: 1, b: 2 });
  void wrong;
}
