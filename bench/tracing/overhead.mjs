#!/usr/bin/env node
/**
 * Tracing cost, end to end: N trivial tasks through one fw-server, one
 * fw-worker and one producer process (the Client), each a separate process,
 * with tracing off, then on (every span exported over OTLP/HTTP protobuf to
 * a local receiver that discards it), then on with 10% sampling. Modes
 * alternate for several rounds; the median rate of each is reported.
 *
 *   npm run build && node bench/tracing/overhead.mjs [--tasks 20000] [--rounds 3] [--modes off,on,on-10%]
 *
 * The topology and task are the main benchmark's (bench/README.md): fw-server
 * with no embedded tasks, fw-worker --concurrency 100 serving
 * bench/workers/noop-tasks.mjs, a producer using Client with its default
 * batching. Besides the rate, it reports each process's CPU time per task,
 * which moves far less than the rate on a busy machine. Loopback only.
 * Writes bench/results/tracing-overhead-<time>.json.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    // Which modes to run (comma-separated names from MODES below).
    modes: { type: "string", default: "off,on,on-10%" },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);

// An OTLP/HTTP sink: accepts and discards, as a collector's receiver would from the exporter's side.
let received = 0;
const sink = createServer((req, res) => {
  req.on("data", (chunk) => (received += chunk.length));
  req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
});
await new Promise((resolve) => sink.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${sink.address().port}`;

const TRACED = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" };
const SAMPLED_10 = { ...TRACED, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" };
const SAMPLED_0 = { ...TRACED, OTEL_TRACES_SAMPLER: "parentbased_always_off" };
/** Each mode: the tracing environment of the producer, the control plane and the worker. */
const ALL_MODES = {
  off: { producer: {}, server: {}, worker: {} },
  on: { producer: TRACED, server: TRACED, worker: TRACED },
  "on-10%": { producer: SAMPLED_10, server: SAMPLED_10, worker: SAMPLED_10 },
  // The machinery alone (context manager, propagation, instrumentation), no span recorded.
  "on-0%": { producer: SAMPLED_0, server: SAMPLED_0, worker: SAMPLED_0 },
  // Where the cost is: only one process traced.
  "producer-only": { producer: TRACED, server: {}, worker: {} },
  "server-only": { producer: {}, server: TRACED, worker: {} },
  "worker-only": { producer: {}, server: {}, worker: TRACED },
};
const MODES = Object.fromEntries(values.modes.split(",").map((m) => {
  if (!(m in ALL_MODES)) throw new Error(`unknown mode ${m}: use ${Object.keys(ALL_MODES).join(", ")}`);
  return [m, ALL_MODES[m]];
}));
// Large enough that the batch span processor drops nothing at this rate: every span is paid for.
const BSP = { OTEL_BSP_MAX_QUEUE_SIZE: "262144", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2048", OTEL_BSP_SCHEDULE_DELAY: "1000" };

function start(args, env, ready) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const line = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (l) => ready.test(l) && resolve(l));
    child.once("exit", (code) => reject(new Error(`${args[0]} exited (${code}) before it was ready`)));
  });
  return { child, line };
}

/** CPU time (user + system, ms) a process has used so far; undefined where /proc is missing. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks (100/s)
  } catch {
    return undefined; // not Linux: report rates only
  }
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

async function runOnce(mode) {
  const env = { ...BSP, FW_LOG_LEVEL: "warn" };
  const traced = MODES[mode];
  const server = start(["dist/bin/fw-server.js", "--in-memory", "--port", "0", "--http-port", "0", "--max-results", String(TASKS * 2)], { ...env, ...traced.server, OTEL_SERVICE_NAME: "fw-server" }, /^fw-server ready /);
  const grpc = /grpc=(\S+)/.exec(await server.line)[1];
  const worker = start(["dist/cli/bin/fw-worker.js", "--server", grpc, "--tasks", "bench/workers/noop-tasks.mjs", "--concurrency", "100"], { ...env, ...traced.worker, OTEL_SERVICE_NAME: "fw-worker" }, /^fw-worker ready /);
  await worker.line;
  const before = { server: cpuMs(server.child.pid), worker: cpuMs(worker.child.pid) };
  const producer = start(["--import", "tsx", "--import", "./examples/telemetry.mjs", "bench/tracing/producer.mjs"], { ...env, ...traced.producer, OTEL_SERVICE_NAME: "producer", FW_SERVER: grpc, TASKS: String(TASKS) }, /^\{/);
  const result = JSON.parse(await producer.line);
  // Control plane and worker CPU over warm-up and measured round; the producer's over the round alone.
  const perTask = (ms) => (ms === undefined ? undefined : Math.round((ms * 1000) / (TASKS + 2000)));
  const cpu = {
    producer: Math.round((result.cpuMs * 1000) / TASKS),
    server: perTask(cpuMs(server.child.pid) - before.server),
    worker: perTask(cpuMs(worker.child.pid) - before.worker),
  };
  await Promise.all([stop(producer.child), stop(worker.child), stop(server.child)]);
  return { rate: result.perSecond, cpu };
}

const runs = Object.fromEntries(Object.keys(MODES).map((m) => [m, []]));
for (let r = 1; r <= ROUNDS; r++) {
  for (const mode of Object.keys(MODES)) {
    const run = await runOnce(mode);
    runs[mode].push(run);
    console.log(`round ${r} ${mode.padEnd(13)} ${run.rate} tasks/s; CPU µs per task: producer ${run.cpu.producer}, fw-server ${run.cpu.server}, fw-worker ${run.cpu.worker}`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(
  Object.entries(runs).map(([m, xs]) => [
    m,
    {
      median: median(xs.map((x) => x.rate)),
      cpuMicrosPerTask: Object.fromEntries(["producer", "server", "worker"].map((p) => [p, median(xs.map((x) => x.cpu[p] ?? NaN))])),
      runs: xs,
    },
  ]),
);
const base = summary.off?.median;
for (const [mode, { median: m, cpuMicrosPerTask: c }] of Object.entries(summary)) {
  const vs = mode === "off" || base === undefined ? "" : ` (${(((m - base) / base) * 100).toFixed(1)}% vs off)`;
  console.log(`${mode.padEnd(13)} median ${m} tasks/s${vs}; CPU µs per task: producer ${c.producer}, fw-server ${c.server}, fw-worker ${c.worker}`);
}
console.log(`OTLP bytes received: ${received}`);
mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
const file = new URL(`../results/tracing-overhead-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({ tasks: TASKS, rounds: ROUNDS, node: process.version, cpus: cpus().length, summary }, null, 2));
sink.close();
