// The browser half of bench/dashboard/history-100k.mjs, in its own process so that
// Playwright's CDP traffic does not load the control plane's event loop.
// Reads one command per line on stdin, answers one JSON line on stdout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const base = process.argv[2];
const profile = mkdtempSync(join(tmpdir(), "fw-bench-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-precise-memory-info"],
});
const page = context.pages()[0] ?? (await context.newPage());
// Main-thread tasks over 50 ms, as Chromium reports them.
await page.addInitScript(() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
  }).observe({ type: "longtask", buffered: true });
  // Long animation frames say which script ran, and how long style/layout took.
  window.__loafs = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__loafs.push({
        ms: Math.round(e.duration),
        blockingMs: Math.round(e.blockingDuration),
        renderMs: Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0),
        scripts: e.scripts.map((x) => ({ ms: Math.round(x.duration), invoker: x.invoker, fn: x.sourceFunctionName })).filter((x) => x.ms > 5),
      });
    }
  }).observe({ type: "long-animation-frame", buffered: true });
});

// Renderer main-thread time (Chromium's own counters), independent of how long frames took on a busy machine.
const cdp = await context.newCDPSession(page);
await cdp.send("Performance.enable");
const metrics = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
let since = { at: performance.now(), m: await metrics() };

const range = () => page.getByTestId("page-range").textContent();
const listedMs = async () => Number((await range())?.match(/listed in (\d+) ms/)?.[1] ?? NaN);
/** Runs `action`, then polls the page until `done` (evaluated in the page) holds; ms from action to done. */
async function timed(action, done, arg) {
  const t0 = performance.now();
  await action();
  await page.waitForFunction(done, arg, { polling: "raf", timeout: 30_000 });
  return { ms: Math.round(performance.now() - t0), listedMs: await listedMs() };
}
const rowsAll = (attr) => {
  const rows = [...document.querySelectorAll('table[aria-label="Tasks"] tbody tr')];
  return rows.length > 0 && rows.every((r) => attr(r));
};
const startsAt = (n) => document.querySelector('[data-testid="page-range"]')?.textContent?.startsWith(`${n.toLocaleString("en-US")}–`) ?? false;

const commands = {
  async open(hash) {
    const t0 = performance.now();
    await page.goto(`${base}/${hash}`);
    await page.locator(hash.includes("tasks") ? 'table[aria-label="Tasks"] tbody tr' : '[data-testid="count-succeeded"]').first().waitFor({ timeout: 30_000 });
    const ms = Math.round(performance.now() - t0);
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { domContentLoaded: Math.round(n.domContentLoadedEventEnd), transferBytes: performance.getEntriesByType("resource").reduce((s, r) => s + (r.transferSize || 0), n.transferSize || 0) };
    });
    return { ms, ...nav };
  },
  async mark() {
    await page.evaluate(() => {
      window.__longTasks = [];
      window.__loafs = [];
    });
    since = { at: performance.now(), m: await metrics() };
    return {};
  },
  async report() {
    const m = await metrics();
    const seconds = (performance.now() - since.at) / 1000;
    const busy = (name) => +(((m[name] - since.m[name]) / seconds) * 100).toFixed(1);
    const main = { mainThreadBusyPct: busy("TaskDuration"), scriptPct: busy("ScriptDuration"), layoutAndStylePct: +(busy("LayoutDuration") + busy("RecalcStyleDuration")).toFixed(1) };
    return { ...main, ...(await page.evaluate(() => {
      const lt = window.__longTasks;
      const lists = performance.getEntriesByType("resource").filter((r) => r.name.endsWith("/ListTasks")).map((r) => r.duration);
      const mem = performance.memory;
      return {
        longTasks: lt.length,
        longTaskTotalMs: lt.reduce((a, b) => a + b, 0),
        longTaskMaxMs: Math.max(0, ...lt),
        // The three longest frames over 50 ms, with the scripts that ran in them.
        longFrames: window.__loafs.sort((a, b) => b.ms - a.ms).slice(0, 3),
        listCalls: lists.length,
        listCallMedianMs: lists.length ? Math.round(lists.sort((a, b) => a - b)[Math.floor(lists.length / 2)]) : null,
        heapMiB: mem ? +(mem.usedJSHeapSize / 2 ** 20).toFixed(1) : null,
        domNodes: document.getElementsByTagName("*").length,
      };
    })) };
  },
  async interact() {
    const filters = page.getByRole("search", { name: "Filter tasks" });
    const chip = (name) => filters.getByRole("button", { name, exact: true });
    const out = { firstPage: { listedMs: await listedMs() } };
    const older = page.getByRole("button", { name: "Older →" });
    out.older = [];
    for (let i = 1; i <= 5; i++) out.older.push(await timed(() => older.click(), startsAt, i * 50 + 1));
    const newer = page.getByRole("button", { name: "← Newer" });
    for (let i = 4; i >= 0; i--) await timed(() => newer.click(), startsAt, i * 50 + 1);
    out.stateFailed = await timed(() => chip("failed").click(), `(${rowsAll})((r) => r.dataset.state === "failed")`);
    out.stateQueued = await timed(async () => {
      await chip("failed").click();
      await chip("queued").click();
    }, `(${rowsAll})((r) => r.dataset.state === "queued")`);
    await chip("queued").click();
    // Text filters apply after a 300 ms typing pause, which ms includes.
    out.taskName = await timed(() => filters.getByLabel("Task", { exact: true }).fill("fails-once"), `(${rowsAll})((r) => r.cells[1].textContent === "fails-once")`);
    await filters.getByLabel("Task", { exact: true }).fill("");
    await page.waitForFunction(`(${rowsAll})((r) => r.cells[1].textContent !== "fails-once")`);
    const id = await page.locator("tbody tr").nth(7).getAttribute("data-task-id");
    out.idPrefix = await timed(() => filters.getByLabel("ID", { exact: true }).fill(id.slice(0, 8)), `(${rowsAll})((r) => r.dataset.taskId.startsWith(${JSON.stringify(id.slice(0, 8))}))`);
    await filters.getByLabel("ID", { exact: true }).fill("");
    await timed(() => chip("failed").click(), `(${rowsAll})((r) => r.dataset.state === "failed")`);
    const t0 = performance.now();
    await page.locator("tbody tr[data-state=failed]").first().click();
    await page.getByLabel("stack trace").waitFor();
    out.openFailedDetailMs = Math.round(performance.now() - t0);
    await page.getByRole("button", { name: "Close the task detail" }).click();
    return out;
  },
  async screenshot(path) {
    await page.screenshot({ path });
    return { path };
  },
  async quit() {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    return {};
  },
};

for await (const line of createInterface({ input: process.stdin })) {
  const [name, ...args] = line.trim().split(" ");
  try {
    console.log(JSON.stringify({ ok: true, ...(await commands[name](...args)) }));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, error: String(err) }));
  }
  if (name === "quit") break;
}
