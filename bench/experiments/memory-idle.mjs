#!/usr/bin/env node
// The control plane's idle RSS, as the bench reads it and after a full GC, over several starts.
//   npm run build && node bench/experiments/memory-idle.mjs [starts=5] [-- extra fw-server args]
// Starts the built `fw-server --in-memory` (its bin script) on port 0, reads VmRSS right after the
// ready line (what bench/runner.ts reports as brokerIdleRssMB), 3 s later, and after a full
// collection asked through the inspector (HeapProfiler.collectGarbage, as memory-queued.mjs does).
// Prints each start and the medians.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

if (typeof WebSocket === "undefined") {
  const { status } = (await import("node:child_process")).spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}

const root = fileURLToPath(new URL("../..", import.meta.url));
const args = process.argv.slice(2);
const dash = args.indexOf("--");
const extra = dash < 0 ? [] : args.slice(dash + 1);
const starts = Number(args.find((a, i) => (dash < 0 || i < dash) && /^\d+$/.test(a)) ?? 5);
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once() {
  const server = spawn(
    process.execPath,
    ["--inspect-port=0", `${root}/dist/cli/bin/fw-server.js`, "--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "warn", ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const inspector = new Promise((resolve) => {
    createInterface({ input: server.stderr }).on("line", (line) => {
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (url !== undefined) resolve(url);
      else if (!/^(For help, see|Debugger attached|Debugger ending)/.test(line)) process.stderr.write(`${line}\n`);
    });
  });
  try {
    await new Promise((resolve, reject) => {
      createInterface({ input: server.stdout }).on("line", (line) => line.startsWith("fw-server ready") && resolve(line));
      server.on("exit", (code) => reject(new Error(`fw-server exited ${code}`)));
    });
    const atReady = rssMiB(server.pid);
    await sleep(3000);
    const at3s = rssMiB(server.pid);
    server.kill("SIGUSR1");
    const ws = new WebSocket(await inspector);
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
    return { atReady, at3s, afterGc: rssMiB(server.pid) };
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.exitCode !== null ? resolve() : server.once("exit", resolve));
  }
}

const runs = [];
for (let i = 0; i < starts; i++) {
  const r = await once();
  runs.push(r);
  console.log(`start ${i + 1}: ${r.atReady.toFixed(1)} MiB at ready, ${r.at3s.toFixed(1)} at 3 s, ${r.afterGc.toFixed(1)} after a full GC`);
}
console.log(
  `median of ${starts}: ${median(runs.map((r) => r.atReady)).toFixed(1)} MiB at ready, ` +
    `${median(runs.map((r) => r.at3s)).toFixed(1)} at 3 s, ${median(runs.map((r) => r.afterGc)).toFixed(1)} after a full GC`,
);
