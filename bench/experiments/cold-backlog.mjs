#!/usr/bin/env node
// A durable backlog far beyond memory: RSS while N tasks are queued (the cold tier), a restart
// with them, and the drain's throughput against an empty-queue run with the same worker.
//   npm run build && node bench/experiments/cold-backlog.mjs [N=10000000] [--hot H] [--baseline M]
// One `fw-server --data-dir <tmp>` (through its bin script, port 0, --max-queued N, 4 GiB of args
// allowed, --hot-queued H when given, else its default) and one `fw-worker` serving
// bench/workers/noop-tasks.mjs (concurrency 100, as the bench's scenarios use):
// 1. empty queue: M tasks (default 500,000) submitted through the real Client (batches of
//    1,000, 4 in flight, results not followed) while the worker runs; tasks/s from the first
//    submission until the control plane counted M successes (GetStats' totals.succeeded);
//    then M more queued with the worker stopped (in memory, under --hot-queued) and drained;
// 2. the worker stops; N tasks of the same shape are queued; RSS (VmRSS) sampled every second,
//    read 3 s after the last acceptance and after a full GC (the server's inspector, as in
//    memory-queued.mjs);
// 3. the control plane is killed (SIGKILL) and started again on the directory: time to its ready
//    line, RSS then and after a full GC;
// 4. the worker starts again and drains the backlog: tasks/s over the whole drain, the highest
//    RSS sampled during it.
// Timings on a shared 2-core machine: the load average is printed with the figures.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../dist/client/client.js";
import { ensureWebSocket, memoryMiB, root, rssMiB, startServer as startFwServer } from "./lib/server-process.mjs";

ensureWebSocket();

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const N = Number(args.find((a, i) => /^\d+$/.test(a) && !/^--/.test(args[i - 1] ?? "")) ?? 10_000_000);
const HOT = option("--hot", undefined);
const BASELINE = option("--baseline", 500_000);
const CHUNK = 1000;
const INFLIGHT = 4;
const dir = mkdtempSync(join(tmpdir(), "fw-cold-backlog-"));
const children = new Set();

/** VmRSS split: the process's own memory (RssAnon), and pages of mapped files (RssFile: LMDB's map, page cache the kernel can take back). */
const rssSplit = (pid) => {
  const { anon, file } = memoryMiB(pid);
  return `anon ${anon.toFixed(0)}, file ${file.toFixed(0)}`;
};
const load = () => loadavg().map((n) => n.toFixed(2)).join(" ");
const log = (line) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Starts fw-server on the directory; resolves at its ready line. */
async function startServer() {
  const server = await startFwServer([
    "--data-dir", dir, "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "warn",
    "--max-queued", String(N + BASELINE), "--max-queued-bytes", "4GiB",
    ...(HOT === undefined ? [] : ["--hot-queued", String(HOT)]),
  ]);
  children.add(server.proc);
  server.proc.on("exit", () => children.delete(server.proc));
  return server;
}

/** Starts fw-worker; resolves once it has registered (the control plane lists it). */
async function startWorker(grpc, client) {
  const proc = spawn(process.execPath, [`${root}/dist/cli/bin/fw-worker.js`, "--server", grpc, "--tasks", `${root}/bench/workers/noop-tasks.mjs`, "--concurrency", "100", "--log-level", "warn"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.add(proc);
  proc.on("exit", () => children.delete(proc));
  while (!(await client.workers()).some((w) => w.pid === proc.pid && w.state === "active")) await sleep(100);
  return proc;
}

async function stopWorker(proc) {
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGTERM");
  await exited;
}

/** Submits `count` noop tasks, results not followed. */
async function submit(client, count) {
  let next = 0;
  const submitter = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + CHUNK);
      const batch = [];
      for (let i = from; i < next; i++) batch.push(client.submit("noop", { i }));
      await Promise.all(batch);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, submitter));
}

/** Samples the highest RSS of a process every second until stopped. */
function peakRss(pid) {
  let peak = 0;
  let split = "";
  const sample = () => {
    const rss = rssMiB(pid);
    if (rss > peak) [peak, split] = [rss, rssSplit(pid)];
  };
  const timer = setInterval(sample, 1000);
  return () => {
    clearInterval(timer);
    sample();
    return `${peak.toFixed(0)} (${split})`;
  };
}

const succeeded = async (client) => (await client.stats()).totals.succeeded;

async function waitSucceeded(client, target, every = 500) {
  for (;;) {
    const n = await succeeded(client);
    if (n >= target) return n;
    await sleep(every);
  }
}

try {
  let server = await startServer();
  let client = new Client({ server: server.grpc, followResults: false });
  log(`fw-server ready (${server.grpc}); load ${load()}`);

  // 1. Empty queue.
  let worker = await startWorker(server.grpc, client);
  await sleep(1000);
  let t0 = performance.now();
  await submit(client, BASELINE);
  await waitSucceeded(client, BASELINE, 50);
  const emptyRate = BASELINE / ((performance.now() - t0) / 1000);
  log(`empty queue: ${BASELINE.toLocaleString("en")} tasks at ${emptyRate.toFixed(0)}/s; load ${load()}`);
  await stopWorker(worker);
  // 1b. A backlog of the same size that fits in memory (under --hot-queued), drained by the worker.
  await submit(client, BASELINE);
  const done = await succeeded(client);
  t0 = performance.now();
  worker = await startWorker(server.grpc, client);
  await waitSucceeded(client, done + BASELINE, 50);
  const hotRate = BASELINE / ((performance.now() - t0) / 1000);
  log(`a backlog in memory: ${BASELINE.toLocaleString("en")} drained at ${hotRate.toFixed(0)}/s; load ${load()}`);
  await stopWorker(worker);
  const before = await succeeded(client);

  // 2. The backlog, no worker.
  const idle = await server.rssAfterGc();
  let stopPeak = peakRss(server.proc.pid);
  t0 = performance.now();
  await submit(client, N);
  const submitSeconds = (performance.now() - t0) / 1000;
  await sleep(3000);
  const queuedRss = rssMiB(server.proc.pid);
  const queuedSplit = rssSplit(server.proc.pid);
  const queuedPeak = stopPeak();
  const queuedGc = await server.rssAfterGc();
  const queuedGcSplit = rssSplit(server.proc.pid);
  const stats = await client.stats();
  log(`queued ${N.toLocaleString("en")} in ${submitSeconds.toFixed(0)} s; RSS ${queuedRss.toFixed(0)} MiB (peak ${queuedPeak}), ${queuedGc.toFixed(0)} after a full GC; load ${load()}`);
  await client.close();

  // 3. kill -9 and start again.
  const killed = new Promise((resolve) => server.proc.once("exit", resolve));
  server.proc.kill("SIGKILL");
  await killed;
  server = await startServer();
  const restartRss = rssMiB(server.proc.pid);
  const restartSplit = rssSplit(server.proc.pid);
  const restartGc = await server.rssAfterGc();
  const restartGcSplit = rssSplit(server.proc.pid);
  client = new Client({ server: server.grpc, followResults: false });
  const queuedAfter = (await client.stats()).queued;
  log(`restarted in ${server.readySeconds.toFixed(1)} s; RSS ${restartRss.toFixed(0)} MiB (${restartSplit}), ${restartGc.toFixed(0)} after a full GC; load ${load()}`);

  // 4. Drain.
  const base = await succeeded(client);
  stopPeak = peakRss(server.proc.pid);
  t0 = performance.now();
  worker = await startWorker(server.grpc, client);
  let last = base;
  let lastAt = performance.now();
  while (last - base < N) {
    // Polled every 200 ms (the end of the drain is timed to that), reported every 10 s.
    let n = await succeeded(client);
    while (n - base < N && performance.now() - lastAt < 10_000) {
      await sleep(200);
      n = await succeeded(client);
    }
    const now = performance.now();
    log(`draining: ${(n - base).toLocaleString("en")} done, ${((n - last) / ((now - lastAt) / 1000)).toFixed(0)}/s, RSS ${rssMiB(server.proc.pid).toFixed(0)} MiB (${rssSplit(server.proc.pid)}); load ${load()}`);
    last = n;
    lastAt = now;
  }
  const drainRate = N / ((performance.now() - t0) / 1000);
  const drainPeak = stopPeak();
  await stopWorker(worker);
  await client.close();
  console.log(
    [
      `cold backlog, fw-server --data-dir${HOT === undefined ? "" : ` --hot-queued ${HOT}`}, ${N.toLocaleString("en")} tasks with args {"i":n}, 1 fw-worker (concurrency 100):`,
      `  empty queue: ${emptyRate.toFixed(0)} tasks/s (${BASELINE.toLocaleString("en")} tasks, submitted while the worker ran; ${before} done)`,
      `  idle RSS after a full GC ${idle.toFixed(0)} MiB; ${N.toLocaleString("en")} queued in ${submitSeconds.toFixed(0)} s: RSS ${queuedRss.toFixed(0)} MiB 3 s after (${queuedSplit}; peak while queueing ${queuedPeak}), ${queuedGc.toFixed(0)} after a full GC (${queuedGcSplit}); stats queued ${JSON.stringify(stats.queued)}`,
      `  kill -9, restart: ready in ${server.readySeconds.toFixed(1)} s, RSS ${restartRss.toFixed(0)} MiB (${restartSplit}), ${restartGc.toFixed(0)} after a full GC (${restartGcSplit}); queued then ${JSON.stringify(queuedAfter)}`,
      `  a backlog of ${BASELINE.toLocaleString("en")} (${HOT === undefined || HOT >= BASELINE ? "all in memory" : "past --hot-queued: not a baseline"}): drained at ${hotRate.toFixed(0)} tasks/s`,
      `  drain: ${drainRate.toFixed(0)} tasks/s over the whole backlog (${((100 * drainRate) / emptyRate).toFixed(0)}% of the empty queue, ${((100 * drainRate) / hotRate).toFixed(0)}% of the backlog in memory), peak RSS ${drainPeak} MiB`,
      `  load average at the end: ${load()}`,
    ].join("\n"),
  );
  server.proc.kill("SIGTERM");
} finally {
  for (const child of children) child.kill("SIGKILL");
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
