// What the memory experiments share: the built fw-server started as a user would (its bin script)
// with an inspector that listens only once asked (SIGUSR1), its RSS from /proc, and a full
// collection asked through that inspector (HeapProfiler.collectGarbage, as DevTools' "collect
// garbage" button does), so RSS can be read without the garbage V8 has not collected yet.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

export const root = fileURLToPath(new URL("../../..", import.meta.url));

/** Node 20 has its WebSocket client (which the inspector needs) behind a flag: runs the script again with it. */
export function ensureWebSocket() {
  if (typeof WebSocket !== "undefined") return;
  const { status } = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}

/**
 * A process's resident memory from /proc, in MiB: VmRSS, and its split into anonymous memory
 * (RssAnon: the process's own) and pages of mapped files (RssFile: the node binary's code, LMDB's map).
 */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const mib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]) / 1024;
  return { total: mib("VmRSS"), anon: mib("RssAnon"), file: mib("RssFile") };
}

/** VmRSS of a process, in MiB. */
export const rssMiB = (pid) => memoryMiB(pid).total;

/**
 * Starts `dist/bin/fw-server.js` (what the fw-server command runs; or `script`) with `args` (and
 * `nodeArgs` for node itself) and resolves at its ready line with the process, its gRPC address,
 * the seconds it took, and rssAfterGc().
 */
export async function startServer(args, nodeArgs = [], script = `${root}/dist/bin/fw-server.js`) {
  const started = performance.now();
  const proc = spawn(process.execPath, ["--inspect-port=0", ...nodeArgs, script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let inspectorUrl;
  const inspectorListening = new Promise((resolve) => {
    createInterface({ input: proc.stderr }).on("line", (line) => {
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (url !== undefined) resolve((inspectorUrl = url));
      else if (!/^(For help, see|Debugger attached|Debugger ending)/.test(line)) process.stderr.write(`${line}\n`);
    });
  });
  const ready = await new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on("line", (line) => line.startsWith("fw-server ready") && resolve(line));
    proc.on("exit", (code) => reject(new Error(`fw-server exited ${code}`)));
  });
  /** A full collection in the server, through its inspector; then its RSS. */
  const rssAfterGc = async () => {
    if (inspectorUrl === undefined) proc.kill("SIGUSR1");
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
    return rssMiB(proc.pid);
  };
  return { proc, grpc: /grpc=(\S+)/.exec(ready)[1], readySeconds: (performance.now() - started) / 1000, rssAfterGc };
}
