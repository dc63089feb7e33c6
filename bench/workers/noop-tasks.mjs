// The benchmark's task module for fw-worker. Plain .mjs so no TypeScript
// loader is involved; the handler matches workers/bullmq-worker.mjs.
import { task } from "fastworker";

/** The trivial task: args { i }, result i. */
export const noop = task("noop", async ({ i }) => i);

/** For the latency breakdown: answers the wall-clock time (ms, sub-ms precision) at which the handler ran. */
export const stamp = task("stamp", async () => ({ at: performance.timeOrigin + performance.now() }));
