// A fastworker worker process for the scaling sweeps: `--instances` Worker
// objects in one process, each its own connection and session to the control
// plane (RegisterWorker + Dispatch + ReportResults streams), each serving
// `--names` task names with one handler that answers its args (so a result is
// as large as its args). With one instance and one name it is fw-worker
// serving noop-tasks.mjs, except that the handler echoes.
// Plain .mjs, like fw-worker's compiled JS, so no TypeScript loader runs here.
// Prints "fastworker-workers ready" once every instance is attached;
// SIGTERM/SIGINT drain every instance, then exit 0.
//
// Usage: node bench/workers/fastworker-workers.mjs --server HOST:PORT
//          [--instances N] [--names N] [--concurrency N] [--name PREFIX]
import { Worker, task } from "fastworker";
import { parseArgs } from "node:util";
// What fw-worker does at start (a process-wide protobuf-es setting the binaries own).
import { useBufferUtf8Encoding } from "../../dist/common/transport/utf8-encoding.js";
import { taskNames } from "./task-names.mjs";

const READY_TIMEOUT_MS = 60_000;

const { values } = parseArgs({
  options: {
    server: { type: "string" },
    instances: { type: "string", default: "1" },
    names: { type: "string", default: "1" },
    concurrency: { type: "string", default: "100" },
    name: { type: "string", default: `bench-workers-${process.pid}` },
  },
});
const count = (option) => {
  const n = Number(values[option]);
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`fastworker-workers: --${option} must be a whole number ≥ 1 (got ${values[option]})\n`);
    process.exit(2);
  }
  return n;
};
if (values.server === undefined) {
  process.stderr.write("fastworker-workers: --server is required\n");
  process.exit(2);
}
const instances = count("instances");
const names = taskNames(count("names"));
const concurrency = count("concurrency");

useBufferUtf8Encoding();
/** The handler of every name: the args back, so the result is the size of the args. */
const echo = async (args) => args;
const tasks = names.map((name) => task(name, echo));
const workers = Array.from({ length: instances }, (_, i) => new Worker({ server: values.server, tasks, concurrency, name: `${values.name}-${i + 1}` }));

const fail = (message) => {
  process.stderr.write(`fastworker-workers: ${message}\n`);
  process.exit(1);
};
const attached = workers.map(
  (worker) =>
    new Promise((resolve) => {
      worker.once("attached", resolve);
      worker.on("error", (err) => fail(`${worker.name}: ${err.message}`));
      worker.start();
    }),
);
const timer = setTimeout(() => fail(`not every instance attached within ${READY_TIMEOUT_MS / 1000}s`), READY_TIMEOUT_MS);
await Promise.all(attached);
clearTimeout(timer);
process.stdout.write(`fastworker-workers ready server=${values.server} instances=${instances} names=${names.length} concurrency=${concurrency} pid=${process.pid}\n`);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(130);
  stopping = true;
  Promise.all(workers.map((w) => w.stop())).then(
    () => process.exit(0),
    (err) => fail(`stop failed: ${String(err)}`),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
