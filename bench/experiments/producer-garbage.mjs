#!/usr/bin/env node
// What one submission costs the producer: bytes allocated and CPU per task, with every result
// returned (submit, then handle.result(), as the bench's producer does), next to the CPU the
// control plane and the worker spent on the same tasks.
//   npm run build && node bench/experiments/producer-garbage.mjs [tasks=100000]
// Starts the built `fw-server --in-memory` (its bin script) and one `fw-worker` on the bench's noop
// task, warms up with 20,000 tasks, then runs `tasks` twice, in waves of 1,000 (at most 4 waves in
// flight): first for the CPU µs per task of each process (from /proc), then with the inspector's
// sampling heap profiler in this process (a sample about every KiB allocated, scaled up; collected
// objects included, so the total estimates what the garbage collector had to deal with). Prints the bytes per task in the client library
// and the node internals it calls (this script's own waves apart), and the sites that allocated most.
// Run it on a quiet machine; the allocation figure varies little, the CPU ones with the load.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { root, startServer } from "./lib/server-process.mjs";

const N = Number(process.argv[2] ?? 100_000);
const WAVE = 1000;

const { proc: server, grpc } = await startServer(["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "error", "--max-results", String(N + 40_000)]);
const worker = spawn(process.execPath, [`${root}/dist/cli/bin/fw-worker.js`, "--tasks", `${root}/bench/workers/noop-tasks.mjs`, "--server", grpc, "--concurrency", "100", "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"] });
const { Client } = await import(`${root}/dist/index.js`);
const client = new Client({ server: grpc });

/** Runs n tasks, each submitted and its result awaited, in waves of WAVE with at most 4 waves in flight. */
async function run(n) {
  const inflight = new Set();
  for (let next = 0; next < n; next += WAVE) {
    const wave = Promise.all(Array.from({ length: Math.min(WAVE, n - next) }, (_, k) => client.submit("noop", { i: next + k }).then((h) => h.result())));
    const tracked = wave.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    if (inflight.size >= 4) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

/** User + system CPU of a process so far, in ms (from /proc/PID/stat, in clock ticks of 10 ms). */
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

try {
  await run(20_000);
  const pids = [server.pid, worker.pid, process.pid];
  const before = pids.map(cpuMs);
  const started = performance.now();
  await run(N);
  const seconds = (performance.now() - started) / 1000;
  const after = pids.map(cpuMs);
  const [serverUs, workerUs, producerUs] = pids.map((_, i) => ((after[i] - before[i]) * 1000) / N);
  console.log(`${N} tasks in ${seconds.toFixed(1)} s (${Math.round(N / seconds)} tasks/s)`);
  console.log(`CPU per task: fw-server ${serverUs.toFixed(1)} µs, fw-worker ${workerUs.toFixed(1)} µs, producer ${producerUs.toFixed(1)} µs`);

  const inspector = new Session();
  inspector.connect();
  await inspector.post("HeapProfiler.enable");
  await inspector.post("HeapProfiler.startSampling", { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await run(N);
  const { profile } = await inspector.post("HeapProfiler.stopSampling");
  inspector.disconnect();

  const bySite = new Map();
  let library = 0;
  let script = 0;
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (url === import.meta.url) script += node.selfSize;
    else if (node.selfSize > 0) {
      library += node.selfSize;
      const site = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(dist|node_modules)\//, "") || "(native)"}:${lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  console.log(`producer allocated ${Math.round(library / N)} bytes per task in the client (and ${Math.round(script / N)} in this script's waves)`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${String(Math.round(bytes / N)).padStart(5)} B  ${site}`);
} finally {
  await client.close();
  worker.kill("SIGTERM");
  await new Promise((resolve) => (worker.exitCode === null ? worker.on("exit", resolve) : resolve()));
  server.kill("SIGTERM");
  await new Promise((resolve) => (server.exitCode === null ? server.on("exit", resolve) : resolve()));
}
