// A BullMQ worker process: one `Worker` with the trivial processor (matching
// noop-tasks.mjs) and the given concurrency. Plain .mjs, like fw-worker's
// compiled JS, so no TypeScript loader runs in either worker. Prints
// "bullmq-worker ready" once connected; SIGTERM closes it gracefully.
//
// Usage: node bench/workers/bullmq-worker.mjs --port P [--queue Q] [--concurrency N]
import { Worker } from "bullmq";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    queue: { type: "string", default: "bench" },
    concurrency: { type: "string", default: "100" },
  },
});
if (values.port === undefined) {
  process.stderr.write("bullmq-worker: --port is required\n");
  process.exit(2);
}

const worker = new Worker(values.queue, async (job) => job.data.i, {
  connection: { host: values.host, port: Number(values.port), maxRetriesPerRequest: null },
  concurrency: Number(values.concurrency),
  // Every other setting is BullMQ's default (drainDelay 5 s, lockDuration 30 s, stalledInterval 30 s, maxStalledCount 1).
});
worker.on("error", (err) => process.stderr.write(`bullmq-worker: ${err.message}\n`));
await worker.waitUntilReady();
process.stdout.write(`bullmq-worker ready queue=${values.queue} concurrency=${values.concurrency} pid=${process.pid}\n`);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(130);
  stopping = true;
  worker.close().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bullmq-worker: close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
