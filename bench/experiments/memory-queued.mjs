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
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../dist/client/client.js";
import { ensureWebSocket, rssMiB, startServer } from "./lib/server-process.mjs";

ensureWebSocket();

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const follow = !args.includes("--no-follow");
const heap = args.includes("--heap");
/** --settle S: also read the RSS, unforced, S seconds after the last acceptance (does V8 give the garbage back on its own?). */
const settle = Number(args[args.indexOf("--settle") + 1] ?? 0) * (args.includes("--settle") ? 1 : 0);
const CHUNK = 1000;
const INFLIGHT = 4;

const { proc: server, grpc, rssAfterGc } = await startServer(
  ["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "warn", "--max-queued", String(Math.max(N, 1)), "--max-queued-bytes", "4GiB"],
  heap ? ["--heapsnapshot-signal=SIGUSR2"] : [],
);
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
