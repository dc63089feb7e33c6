#!/usr/bin/env node
// How the dashboard behaves with 100,000 tasks in history (N to change it).
//   npm run bench:dashboard          (or: npm run build && node bench/dashboard/history-100k.mjs)
// The control plane runs in this process, so it can measure its own
// event-loop delay and CPU; a worker, a load generator and Chromium
// (bench/dashboard/browser.mjs) run as child processes. Everything stays on
// loopback and ends by itself. Prints a table and writes
// bench/results/dashboard-100k.json.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { Client } from "../../dist/index.js";
import { startServer } from "../../dist/server/server.js";

const N = Number(process.env.N ?? 100_000);
const PHASE_S = Number(process.env.PHASE_S ?? 20);
const LOAD_RATE = Number(process.env.LOAD_RATE ?? 200);
const root = new URL("../..", import.meta.url).pathname;
const children = [];
const child = (args) => {
  const c = spawn(process.execPath, args, { cwd: root, stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, FW_LOG_LEVEL: "warn" } });
  children.push(c);
  return c;
};
const firstLine = (c, pattern) =>
  new Promise((resolve, reject) => {
    const rl = createInterface({ input: c.stdout });
    rl.on("line", (line) => pattern.test(line) && (rl.close(), resolve(line)));
    c.once("exit", (code) => reject(new Error(`${c.spawnargs.join(" ")} exited with ${code}`)));
  });
const endChildren = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
};
process.on("exit", endChildren);
process.on("uncaughtException", (err) => {
  console.error(err);
  endChildren();
  process.exit(1);
});
const deadline = setTimeout(() => {
  console.error("bench took longer than 15 minutes; giving up");
  process.exit(1);
}, 15 * 60_000);

const server = await startServer({ port: 0, httpPort: 0, maxResults: N * 2, resultTtlMs: 3600_000 });
const worker = child([`${root}dist/cli/fw-worker.js`, "--server", server.grpcAddress, "--tasks", "test/fixtures/dashboard-tasks.mjs", "--concurrency", "256"]);
await firstLine(worker, /^fw-worker ready/);

// History: 94% succeeded, 5% failed (with stacks), 1% queued for a task no worker serves.
const client = new Client({ server: server.grpcAddress });
const t0 = performance.now();
for (let done = 0; done < N; ) {
  const chunk = Math.min(5000, N - done);
  await Promise.all(
    Array.from({ length: chunk }, (_, k) => {
      const i = done + k;
      if (i % 100 === 0) return client.submit("not-served", { i }, { priority: "low" });
      if (i % 20 === 1) return client.submit("fails-once", { key: `k${i}` });
      return client.submit("add", { a: i, b: 1 });
    }),
  );
  done += chunk;
}
const finishedTarget = N - Math.ceil(N / 100);
for (;;) {
  const s = server.plane.stats;
  if (s.succeeded + s.failed >= finishedTarget) break;
  await new Promise((r) => setTimeout(r, 200));
}
await client.close();
const loadMs = Math.round(performance.now() - t0);
console.error(`history ready: ${N} tasks in ${loadMs} ms`);

// Direct store listings (no RPC, no encoding): the cost the control plane pays per list.
const direct = {};
const time = (label, filter, cursor) => {
  const runs = [];
  for (let i = 0; i < 15; i++) {
    const s = performance.now();
    server.plane.store.list(filter, cursor, 50, Date.now());
    runs.push(performance.now() - s);
  }
  runs.sort((a, b) => a - b);
  direct[label] = +runs[7].toFixed(2);
};
time("newest 50, no filter", {});
time("state=failed", { states: [5] });
time("state=queued (1%, oldest spread)", { states: [1] });
time("name=fails-once (counts all matches)", { name: "fails-once" });
time("id prefix (counts all matches)", { idPrefix: "ab" });
time("page 1000 of 2000 (token)", {}, Math.floor(N / 2));

// The browser.
const browser = child(["bench/dashboard/browser.mjs", server.httpUrl]);
const answers = createInterface({ input: browser.stdout })[Symbol.asyncIterator]();
const ask = async (command) => {
  browser.stdin.write(`${command}\n`);
  const { value } = await answers.next();
  const answer = JSON.parse(value);
  if (!answer.ok) throw new Error(`browser: ${command}: ${answer.error}`);
  return answer;
};

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
// Garbage-collection pauses, to tell them apart from work the dashboard causes.
let gcPauses = [];
new PerformanceObserver((list) => gcPauses.push(...list.getEntries().map((e) => e.duration))).observe({ entryTypes: ["gc"] });
const phases = [];
async function phase(name, { load = false, view } = {}) {
  if (view) await ask(`open ${view}`);
  if (view) await ask("mark");
  const gen = load ? child(["bench/dashboard/load.mjs", server.grpcAddress, String(LOAD_RATE), String(PHASE_S)]) : undefined;
  loop.reset();
  gcPauses = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (gen) await new Promise((r) => gen.once("exit", r));
  else await new Promise((r) => setTimeout(r, PHASE_S * 1000));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const result = {
    phase: name,
    loopP50Ms: +(loop.percentile(50) / 1e6).toFixed(1),
    loopP99Ms: +(loop.percentile(99) / 1e6).toFixed(1),
    loopMaxMs: +(loop.max / 1e6).toFixed(1),
    serverCpuPct: Math.round(((used.user + used.system) / 1000 / elapsed) * 100),
    gcMaxMs: +Math.max(0, ...gcPauses).toFixed(1),
    gcTotalMs: Math.round(gcPauses.reduce((a, b) => a + b, 0)),
    ...(view ? await ask("report") : {}),
  };
  phases.push(result);
  console.error(JSON.stringify(result));
}

await phase("no page, idle");
await phase(`no page, ${LOAD_RATE} tasks/s`, { load: true });
const overview = await ask("open #/overview");
await phase(`overview open, ${LOAD_RATE} tasks/s`, { load: true, view: "#/overview" });
const tasksOpen = await ask("open #/tasks");
await phase(`tasks table open (live), ${LOAD_RATE} tasks/s`, { load: true, view: "#/tasks" });
await ask("mark");
const interactions = await ask("interact");
const afterInteract = await ask("report");
const screenshot = (await ask(`screenshot ${tmpdir()}/fw-dashboard-100k.png`)).path;
await ask("quit");

endChildren();
await server.stop();
clearTimeout(deadline);

const results = { n: N, loadMs, screenshot, direct, firstOpen: { overview, tasks: tasksOpen }, phases, interactions, afterInteract };
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/dashboard-100k.json`, JSON.stringify(results, null, 2));
console.log(JSON.stringify(results, null, 2));
