#!/usr/bin/env node
// What the control plane holds in memory: its RSS idle, and with N tasks queued and no worker.
//   npm run build && node bench/experiments/memory-queued.mjs [N=1000000] [--no-follow] [--heap]
// Starts the built `fw-server --in-memory` (through its bin script, as a user would) on port 0,
// reads its RSS (/proc/PID/status VmRSS) 3 s after the ready line, submits N tasks of one name
// with args {"i":n} through the real Client (batches of 1,000, 4 in flight, as the bench's
// backlog scenario does), waits 3 s and reads the RSS again. Per queued task = (loaded - idle) / N.
// By default the client follows results (the Client's default: the control plane keeps a waiter
// per task); --no-follow submits with followResults off, so only the store's cost shows.
// --heap writes a heap snapshot of the loaded server (node --heapsnapshot-signal) into the cwd.
// Memory figures are steady on a loaded machine; the submit time printed is not.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../dist/client/client.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const follow = !args.includes("--no-follow");
const heap = args.includes("--heap");
const CHUNK = 1000;
const INFLIGHT = 4;

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

const server = spawn(
  process.execPath,
  [
    ...(heap ? ["--heapsnapshot-signal=SIGUSR2"] : []),
    `${root}/dist/cli/bin/fw-server.js`,
    "--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "warn",
    "--max-queued", String(Math.max(N, 1)), "--max-queued-bytes", "4GiB",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const ready = await new Promise((resolve, reject) => {
  createInterface({ input: server.stdout }).on("line", (line) => line.startsWith("fw-server ready") && resolve(line));
  server.on("exit", (code) => reject(new Error(`fw-server exited ${code}`)));
});
const grpc = /grpc=(\S+)/.exec(ready)[1];
try {
  await sleep(3000);
  const idle = rssMiB(server.pid);
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
  const loaded = rssMiB(server.pid);
  if (heap) {
    server.kill("SIGUSR2");
    await sleep(N / 20_000 * 1000 + 5000);
  }
  await client.close();
  console.log(
    `fw-server --in-memory: idle RSS ${idle.toFixed(1)} MiB; ${N.toLocaleString("en")} queued (follow results: ${follow ? "yes" : "no"}): ` +
      `RSS ${loaded.toFixed(1)} MiB, ${(((loaded - idle) * 1024 * 1024) / Math.max(N, 1)).toFixed(0)} B per queued task ` +
      `(submitted in ${submitSeconds.toFixed(1)} s; a timing on a shared machine)`,
  );
} finally {
  server.kill("SIGTERM");
}
process.exit(0);
