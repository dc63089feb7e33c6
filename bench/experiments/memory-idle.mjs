#!/usr/bin/env node
// The control plane's idle RSS, as the bench reads it and after a full GC, over several starts.
//   npm run build && node bench/experiments/memory-idle.mjs [starts=5] [--durable] [-- extra fw-server args]
// Starts the built `fw-server --in-memory` (its bin script) on port 0, or with --durable on a new, empty
// `--data-dir` (the default mode: LMDB) removed after each start, reads VmRSS right after the
// ready line (what bench/runner.ts reports as brokerIdleRssMB), 3 s later, and after a full
// collection asked through the inspector (HeapProfiler.collectGarbage, as memory-queued.mjs does).
// Prints each start and the medians.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureWebSocket, rssMiB, startServer } from "./lib/server-process.mjs";

ensureWebSocket();

const args = process.argv.slice(2);
const dash = args.indexOf("--");
const extra = dash < 0 ? [] : args.slice(dash + 1);
const own = dash < 0 ? args : args.slice(0, dash);
const starts = Number(own.find((a) => /^\d+$/.test(a)) ?? 5);
const durable = own.includes("--durable");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once() {
  const dataDir = durable ? mkdtempSync(join(tmpdir(), "fw-memory-idle-")) : undefined;
  const state = dataDir === undefined ? ["--in-memory"] : ["--data-dir", dataDir];
  const { proc, rssAfterGc } = await startServer([...state, "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "warn", ...extra]);
  try {
    const atReady = rssMiB(proc.pid);
    await sleep(3000);
    const at3s = rssMiB(proc.pid);
    return { atReady, at3s, afterGc: await rssAfterGc() };
  } finally {
    proc.kill("SIGTERM");
    await new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.once("exit", resolve)));
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}

const runs = [];
for (let i = 0; i < starts; i++) {
  const r = await once();
  runs.push(r);
  console.log(`start ${i + 1}: ${r.atReady.toFixed(1)} MiB at ready, ${r.at3s.toFixed(1)} at 3 s, ${r.afterGc.toFixed(1)} after a full GC`);
}
console.log(
  `median of ${starts}${durable ? " (--data-dir)" : ""}: ${median(runs.map((r) => r.atReady)).toFixed(1)} MiB at ready, ` +
    `${median(runs.map((r) => r.at3s)).toFixed(1)} at 3 s, ${median(runs.map((r) => r.afterGc)).toFixed(1)} after a full GC`,
);
