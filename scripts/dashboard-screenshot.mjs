#!/usr/bin/env node
// Makes the dashboard's screenshots: docs/dashboard-overview.png (desktop,
// 1280×1000, the one in the README: with the task-name table, a name no
// worker serves and a paused one), docs/dashboard-tasks.png (the task list
// with rows ticked for a bulk action), docs/dashboard-task-logs.png (a task's
// detail with its log), docs/dashboard-phone.png and
// docs/dashboard-phone-names.png and docs/dashboard-phone-tasks.png (a phone, 390×844): a control plane with the
// example tasks, two workers and about two minutes of varying load
// (successes, retries, failures, a backlog that builds and drains),
// photographed by headless Debian Chromium. Run by hand after `npm run build`:
//   node scripts/dashboard-screenshot.mjs [seconds]
// Loopback only; ends everything it starts.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { Client } from "../dist/index.js";

const seconds = Number(process.argv[2] ?? 120);
const root = new URL("..", import.meta.url).pathname;
const children = [];
const bin = JSON.parse(readFileSync(`${root}package.json`, "utf8")).bin;
const start = (command, args) => {
  const child = spawn(process.execPath, [`${root}${bin[command]}`, ...args], { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, FW_LOG_LEVEL: "warn" } });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => line.includes(" ready ") && resolve(line));
    child.once("exit", (code) => reject(new Error(`${command} exited with ${code}`)));
  });
};
process.on("exit", () => children.forEach((c) => c.exitCode === null && c.kill("SIGTERM")));

const ready = await start("fw-server", ["--in-memory", "--port", "0", "--http-port", "0", "--tasks", "examples/tasks.ts", "--concurrency", "4"]);
const grpc = /grpc=(\S+)/.exec(ready)[1];
const http = /http=(\S+)/.exec(ready)[1];
await start("fw-worker", ["--server", grpc, "--tasks", "examples/tasks.ts", "--concurrency", "4", "--name", "worker-2"]);

const client = new Client({ server: grpc });
// Work nothing can run (no worker serves "send-invoice"), and a paused name whose tasks wait.
for (let i = 0; i < 40; i++) await client.submit("send-invoice", { invoice: 1000 + i });
await client.pauseTaskName("word-count");
for (let i = 0; i < 12; i++) await client.submit("word-count", { text: "the quick brown fox" });
const priorities = ["critical", "high", "normal", "normal", "normal", "low"];
const until = Date.now() + seconds * 1000;
let loading = true;
const load = (async () => {
  for (let tick = 0; loading; tick++) {
    // A wave between about 5 and 40 tasks a second: the backlog builds at the crests.
    const rate = 22 + 18 * Math.sin(tick / 40);
    const n = Math.round(rate / 4);
    for (let i = 0; i < n; i++) {
      const r = Math.random();
      const priority = priorities[Math.floor(Math.random() * priorities.length)];
      if (r < 0.06) void client.submit("add", { a: "oops", b: 1 }, { priority });
      else if (r < 0.16) void client.submit("flaky", { succeedOnAttempt: 2 }, { priority });
      else if (r < 0.6) void client.submit("wait", { ms: 300 + Math.round(Math.random() * 600) }, { priority });
      else void client.submit("add", { a: i, b: tick }, { priority });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
})();

// The page is open while the load runs, and photographed before it stops.
const profile = mkdtempSync(join(tmpdir(), "fw-shot-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1000 },
  colorScheme: "light",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(http);
await page.getByTestId("count-succeeded").waitFor();
await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
await page.getByRole("table", { name: "Task names" }).waitFor();
await page.screenshot({ path: `${root}docs/dashboard-overview.png` });
// The task list with two rows ticked (the bulk bar), then a task's detail with its log.
await page.goto(`${http}/#/tasks?task=flaky`);
const rows = page.getByRole("table", { name: "Tasks" }).locator("tbody tr");
await rows.nth(2).waitFor();
for (const n of [0, 1]) await rows.nth(n).getByRole("checkbox").check();
await page.screenshot({ path: `${root}docs/dashboard-tasks.png` });
const flakyTask = (await client.listTasks({ task: "flaky", state: "succeeded", limit: 1 })).tasks[0];
await page.goto(`${http}/#/tasks?task=flaky&open=${flakyTask.id}`);
await page.getByTestId("task-log").waitFor();
await page.screenshot({ path: `${root}docs/dashboard-task-logs.png` });
// The same moment on a phone: the overview, then the task list as cards (filters folded).
const phone = await context.newPage();
await phone.setViewportSize({ width: 390, height: 844 });
await phone.goto(http);
await phone.getByTestId("count-succeeded").waitFor();
await phone.locator("figure.chart svg path").first().waitFor();
await phone.screenshot({ path: `${root}docs/dashboard-phone.png` });
// Further down on the phone: the task-name table, its notice, and Pause / Resume.
await phone.getByRole("heading", { name: "Task names" }).scrollIntoViewIfNeeded();
await phone.evaluate(() => window.scrollBy(0, -12));
await phone.screenshot({ path: `${root}docs/dashboard-phone-names.png` });
await phone.getByRole("link", { name: /^Tasks/ }).click();
await phone.getByRole("list", { name: "Tasks" }).locator("li").first().waitFor();
await phone.screenshot({ path: `${root}docs/dashboard-phone-tasks.png` });
loading = false;
await load;
await context.close();
rmSync(profile, { recursive: true, force: true });
await client.close();
console.log("wrote docs/dashboard-overview.png, dashboard-tasks.png, dashboard-task-logs.png, dashboard-phone.png, dashboard-phone-names.png and dashboard-phone-tasks.png");
process.exit(0);
