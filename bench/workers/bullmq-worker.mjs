// A BullMQ worker process: one `Worker` with the trivial processor (matching
// noop-tasks.mjs) and the given concurrency. Plain .mjs, like fw-worker's
// compiled JS, so no TypeScript loader runs in either worker. Prints
// "bullmq-worker ready" once connected; SIGTERM closes it gracefully.
// For the scaling sweeps (matching fastworker-workers.mjs): `--instances N`
// runs N `Worker`s in this process (each its own Redis connections), and
// `--echo` answers the job's data instead of `data.i`, so a result is as large
// as its args. A Worker takes every job of its queue whatever the job's name.
//
// Usage: node bench/workers/bullmq-worker.mjs --port P [--queue Q] [--concurrency N] [--instances N] [--echo]
import { Worker } from "bullmq";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    queue: { type: "string", default: "bench" },
    concurrency: { type: "string", default: "100" },
    instances: { type: "string", default: "1" },
    echo: { type: "boolean", default: false },
  },
});
if (values.port === undefined) {
  process.stderr.write("bullmq-worker: --port is required\n");
  process.exit(2);
}

const processor = values.echo ? async (job) => job.data : async (job) => job.data.i;
const workers = Array.from(
  { length: Number(values.instances) },
  () =>
    new Worker(values.queue, processor, {
      connection: { host: values.host, port: Number(values.port), maxRetriesPerRequest: null },
      concurrency: Number(values.concurrency),
      // Every other setting is BullMQ's default (drainDelay 5 s, lockDuration 30 s, stalledInterval 30 s, maxStalledCount 1).
    }),
);
for (const worker of workers) worker.on("error", (err) => process.stderr.write(`bullmq-worker: ${err.message}\n`));
await Promise.all(workers.map((worker) => worker.waitUntilReady()));
process.stdout.write(`bullmq-worker ready queue=${values.queue} concurrency=${values.concurrency} instances=${workers.length} pid=${process.pid}\n`);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(130);
  stopping = true;
  Promise.all(workers.map((worker) => worker.close())).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bullmq-worker: close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
