/**
 * Example tasks. Run them inside the control plane:
 *   npx fw-server --tasks examples/tasks.ts
 * or in a separate worker:
 *   npx fw-worker --tasks examples/tasks.ts --server 127.0.0.1:50051
 */
import { setTimeout as sleep } from "node:timers/promises";
import { NonRetryableError, task } from "fastworker";

/** Adds two numbers. `npx fw submit add --args '{"a":1,"b":2}' --wait` prints 3. */
export const add = task("add", ({ a, b }: { a: number; b: number }) => {
  if (typeof a !== "number" || typeof b !== "number") throw new NonRetryableError("add needs numbers a and b");
  return a + b;
});

/** Waits, reporting progress, and stops early when cancelled or timed out. */
export const wait = task(
  "wait",
  async ({ ms }: { ms: number }, ctx) => {
    const steps = 10;
    for (let i = 1; i <= steps; i++) {
      await sleep(ms / steps, undefined, { signal: ctx.signal });
      ctx.progress(i / steps, `${i * 10}% of ${ms} ms`);
    }
    return { waited: ms };
  },
  { timeoutMs: 60_000 },
);

/** Fails on its first attempts, then succeeds: shows retries with backoff, and its log says why (`npx fw logs ID`). */
export const flaky = task(
  "flaky",
  ({ succeedOnAttempt }: { succeedOnAttempt: number }, ctx) => {
    ctx.log(`attempt ${ctx.attempt}: succeeds on attempt ${succeedOnAttempt}`);
    if (ctx.attempt < succeedOnAttempt) throw new Error(`attempt ${ctx.attempt} failed on purpose`);
    ctx.log("done");
    return { attempt: ctx.attempt };
  },
  { retry: { maxAttempts: 5, initialBackoffMs: 200 } },
);

/** Counts words in a text (something CPU-ish to do). */
export const wordCount = task("word-count", ({ text }: { text: string }) => {
  const counts: Record<string, number> = {};
  for (const word of text.toLowerCase().match(/[a-z']+/g) ?? []) counts[word] = (counts[word] ?? 0) + 1;
  return counts;
});
