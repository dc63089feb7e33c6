#!/usr/bin/env node
// What the control plane holds in memory: its RSS idle, and with N tasks queued and no worker.
//   npm run build && node bench/experiments/memory-queued.mjs [N=1000000] [--no-follow] [--settle S] [--heap]
// Starts the built `fw-server --in-memory` (through its bin script, as a user would) on port 0,
// reads its RSS (/proc/PID/status VmRSS) 3 s after the ready line, submits N tasks of one name
// with args {"i":n} through the real Client (batches of 1,000, 4 in flight, as the bench's
// backlog scenario does), and reads the RSS 3 s after the last acceptance. Those figures include
// whatever garbage V8 has not collected yet, which varies by tens of MiB from run to run with GC
// timing. So each is also taken after a full collection: the script opens the server's inspector
// (SIGUSR1, with --inspect-port=0 given at start, so nothing listens before) and asks it for
// HeapProfiler.collectGarbage, as DevTools' "collect garbage" button does. Those repeat within
// ~1 MiB; bytes per queued task = (loaded - idle) / N from them.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../dist/client/client.js";

if (typeof WebSocket === "undefined") {
  // Node 20 has its WebSocket client behind a flag: run again with it.
  const { status } = (await import("node:child_process")).spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}

const root = fileURLToPath(new URL("../..", import.meta.url));
const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const follow = !args.includes("--no-follow");
const heap = args.includes("--heap");
/** --settle S: also read the RSS, unforced, S seconds after the last acceptance (does V8 give the garbage back on its own?). */
const settle = Number(args[args.indexOf("--settle") + 1] ?? 0) * (args.includes("--settle") ? 1 : 0);
const CHUNK = 1000;
const INFLIGHT = 4;

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

const server = spawn(
  process.execPath,
  [
    "--inspect-port=0",
    ...(heap ? ["--heapsnapshot-signal=SIGUSR2"] : []),
    `${root}/dist/cli/bin/fw-server.js`,
    "--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "warn",
    "--max-queued", String(Math.max(N, 1)), "--max-queued-bytes", "4GiB",
  ],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let inspectorUrl;
const inspectorListening = new Promise((resolve) => {
  createInterface({ input: server.stderr }).on("line", (line) => {
    const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
    if (url !== undefined) resolve((inspectorUrl = url));
    else if (!/^(For help, see|Debugger attached|Debugger ending)/.test(line)) process.stderr.write(`${line}\n`);
  });
});

/** A full collection in the server, through its inspector; then its RSS. */
async function rssAfterGc() {
  if (inspectorUrl === undefined) server.kill("SIGUSR1");
  const ws = new WebSocket(await inspectorListening);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  for (let id = 1; id <= 2; id++) {
    await new Promise((resolve) => {
      ws.onmessage = (event) => JSON.parse(event.data).id === id && resolve();
      ws.send(JSON.stringify({ id, method: "HeapProfiler.collectGarbage" }));
    });
  }
  ws.close();
  await sleep(1000);
  return rssMiB(server.pid);
}
const ready = await new Promise((resolve, reject) => {
  createInterface({ input: server.stdout }).on("line", (line) => line.startsWith("fw-server ready") && resolve(line));
  server.on("exit", (code) => reject(new Error(`fw-server exited ${code}`)));
});
const grpc = /grpc=(\S+)/.exec(ready)[1];
try {
  await sleep(3000);
  const idleEarly = rssMiB(server.pid);
  const idle = await rssAfterGc();
  const client = new Client({ server: grpc, followResults: follow });
  const started = performance.now();
  let next = 0;
  const submitter = async () => {
    while (next < N) {
      const from = next;
      next = Math.min(N, next + CHUNK);
      const batch = [];
      for (let i = from; i < next; i++) batch.push(client.submit("noop", { i }));
      await Promise.all(batch);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, submitter));
  const submitSeconds = (performance.now() - started) / 1000;
  await sleep(3000);
  const loadedEarly = rssMiB(server.pid);
  let settled = "";
  if (settle > 0) {
    await sleep((settle - 3) * 1000);
    settled = `, ${rssMiB(server.pid).toFixed(1)} at ${settle} s`;
  }
  const loaded = await rssAfterGc();
  if (heap) {
    server.kill("SIGUSR2");
    await sleep(N / 20_000 * 1000 + 5000);
  }
  await client.close();
  console.log(
    `fw-server --in-memory: idle RSS ${idleEarly.toFixed(1)} MiB at 3 s, ${idle.toFixed(1)} after a full GC; ` +
      `${N.toLocaleString("en")} queued (follow results: ${follow ? "yes" : "no"}): ` +
      `RSS ${loadedEarly.toFixed(1)} MiB at 3 s${settled}, ${loaded.toFixed(1)} after a full GC: ${(((loaded - idle) * 1024 * 1024) / Math.max(N, 1)).toFixed(0)} B per queued task ` +
      `(submitted in ${submitSeconds.toFixed(1)} s; a timing on a shared machine)`,
  );
} finally {
  server.kill("SIGTERM");
}
process.exit(0);
