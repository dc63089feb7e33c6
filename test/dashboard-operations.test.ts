import { describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { axeViolations, browserSession } from "./helpers/browser.js";
import { startServer, startWorker } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";

// The dashboard as operators use it at scale (issue 16, part 2), in headless Chromium against
// real processes: finding tasks, the per-name table, actions on many tasks, logs. Every wait is
// on page state (locators, expect.poll), never a sleep.

const TASKS = "test/fixtures/dashboard-tasks.mjs";
const WAIT = { timeout: 20_000 };
const PHONE = { width: 390, height: 844 };

const { open, pages, clients } = browserSession();

function client(server: { grpc: string }): Client {
  const c = new Client({ server: server.grpc });
  clients.push(c);
  return c;
}

declare const document: { documentElement: { scrollWidth: number } };

describe.skipIf(missing("chromium"))("dashboard operations", () => {
  it("finds tasks: orders, the last page in one step, name substring, search in args and errors, a worker's tasks, a time range", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const c = client(server);
    // 120 tasks in order, then a failure and one with a needle in its args; nobody serves "waits".
    const added: string[] = [];
    for (let i = 0; i < 120; i += 20) {
      const handles = await Promise.all(Array.from({ length: 20 }, (_, k) => c.submit("add", { a: i + k, b: 0 })));
      added.push(...handles.map((h) => h.id));
      await Promise.all(handles.map((h) => h.result()));
    }
    const failing = await c.submit("fails-once", { key: "smtp-relay" });
    await expect(failing.result()).rejects.toThrow("fails on purpose");
    await c.run("add", { a: 1, b: 2, note: "Needle-77" });
    const waits = [await c.submit("waits", {}, { priority: "low" }), await c.submit("waits", {}, { priority: "critical" }), await c.submit("waits", {}, { priority: "high" })];

    const p = await open(`${server.http}/#/tasks`);
    const rows = p.getByRole("table", { name: "Tasks" }).locator("tbody tr");
    const range = () => p.getByTestId("page-range").textContent();
    await expect.poll(range, WAIT).toMatch(/^1–50 of 125\b/);
    // The oldest page at once (no walk): 125 in pages of 50 leaves 25, the first task last.
    const requests: string[] = [];
    p.on("request", (r) => r.url().includes("ListTasks") && requests.push(r.url()));
    await p.getByRole("button", { name: "Oldest" }).click();
    await expect.poll(range, WAIT).toMatch(/^101–125 of 125 · page 3 of 3/);
    await expect.poll(() => rows.last().getAttribute("data-task-id"), WAIT).toBe(added[0]);
    expect(requests.length).toBeLessThanOrEqual(2);
    await p.getByRole("button", { name: "← Newer" }).click();
    await expect.poll(range, WAIT).toMatch(/^51–100 of 125 · page 2 of 3/);
    await expect.poll(() => rows.last().getAttribute("data-task-id"), WAIT).toBe(added[25]);

    // Oldest first, then the order the waiting tasks will run in.
    const filters = p.getByRole("search", { name: "Filter tasks" });
    await filters.getByLabel(/^Order/).selectOption("oldest");
    await expect.poll(() => rows.first().getAttribute("data-task-id"), WAIT).toBe(added[0]);
    expect(p.url()).toContain("order=oldest");
    await filters.getByLabel(/^Order/).selectOption("next-to-run");
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task-id"))), WAIT).toEqual([waits[1]!.id, waits[2]!.id, waits[0]!.id]);
    await filters.getByLabel(/^Order/).selectOption("newest");

    // A part of a name, text in the args, text in an error.
    await filters.getByLabel(/^Name contains/).fill("FAILS");
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task-id"))), WAIT).toEqual([failing.id]);
    await filters.getByLabel(/^Name contains/).fill("");
    await filters.getByLabel(/^Search/).fill("needle-77");
    await expect.poll(range, WAIT).toMatch(/^1–1 of 1\b/);
    await filters.getByLabel(/^Search/).fill("on purpose");
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task-id"))), WAIT).toEqual([failing.id]);
    await filters.getByLabel(/^Search/).fill("");

    // A time range: before the first task, nothing; from then on, everything.
    await filters.getByLabel(/^Created before/).fill("2001-01-01T00:00");
    await p.getByText("No task matches these filters").waitFor(WAIT);
    await filters.getByLabel(/^Created before/).fill("");
    await filters.getByLabel(/^Created from/).fill("2001-01-01T00:00");
    await expect.poll(range, WAIT).toMatch(/^1–50 of 125\b/);
    await filters.getByLabel(/^Created from/).fill("");

    // A worker's tasks: from the Workers tab.
    await p.getByRole("link", { name: /^Workers/ }).click();
    await p.getByRole("link", { name: /^embedded-/ }).click();
    await expect.poll(() => p.url(), WAIT).toMatch(/#\/tasks\?worker=/);
    await expect.poll(range, WAIT).toMatch(/^1–50 of 122\b/); // the three "waits" tasks never ran
    expect(await axeViolations(p), "filters and pager").toEqual([]);
  });

  it("shows stuck work: the per-name table, a badge for names no connected worker serves (Overview, task list), pause and resume", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const c = client(server);
    await Promise.all([1, 2, 3].map((a) => c.run("add", { a, b: 0 })));
    for (let i = 0; i < 4; i++) await c.submit("nobody-serves", { i });

    const p = await open(`${server.http}/#/`);
    const table = p.getByRole("table", { name: "Task names" });
    const row = (name: string) => table.locator(`tr[data-task-name="${name}"]`);
    await expect.poll(() => row("nobody-serves").locator("td").allTextContents(), WAIT).toEqual(["nobody-serves", "4", "0", "0", "0", "0", "none", "—", "—", "Pause"]);
    await expect.poll(() => row("add").locator("td").nth(4).textContent(), WAIT).toBe("3");
    expect(await row("add").locator("td").nth(6).textContent()).toBe("1");
    expect(await row("add").locator("td").nth(7).textContent()).toMatch(/ms$/);
    const notice = p.getByTestId("stranded");
    await expect.poll(() => notice.textContent(), WAIT).toMatch(/^No connected worker serves “nobody-serves”: its 4 waiting tasks cannot run until one does\./);
    expect(await axeViolations(p), "overview with the task-name table").toEqual([]);

    // Pause "add": its new task queues; Resume: it runs.
    await row("add").getByRole("button", { name: "Pause add" }).click();
    await row("add").getByText("paused").waitFor(WAIT);
    const held = await c.submit("add", { a: 5, b: 5 });
    await expect.poll(() => row("add").locator("td").nth(1).textContent(), WAIT).toBe("1");
    expect((await held.status()).state).toBe("queued");
    await row("add").getByRole("button", { name: "Resume add" }).click();
    expect(await held.result()).toBe(10);
    await expect.poll(() => row("add").getByText("paused").count(), WAIT).toBe(0);

    // The task list marks the waiting tasks nothing can run, and says why above them; at phone width too.
    await notice.getByRole("link", { name: "See them" }).click();
    const rows = p.getByRole("table", { name: "Tasks" }).locator("tbody tr");
    await expect.poll(() => rows.count(), WAIT).toBe(4);
    await expect.poll(() => p.getByTestId("no-worker").count(), WAIT).toBe(4);
    expect(await p.getByTestId("stranded").textContent()).toContain("No connected worker serves “nobody-serves”");
    const phone = await open(`${server.http}/#/tasks?task=nobody-serves`, { viewport: PHONE });
    await expect.poll(() => phone.getByTestId("no-worker").count(), WAIT).toBe(4);
    await phone.goto(`${server.http}/#/`);
    await phone.getByRole("table", { name: "Task names" }).waitFor(WAIT);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  });

  it("acts on many tasks: ticked rows, every task a filter matches (the count confirmed), Run now for a scheduled task", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const c = client(server);
    const stuck: { id: string }[] = [];
    for (let i = 0; i < 6; i++) stuck.push(await c.submit("nobody-serves", { i }));
    for (const key of ["a", "b"]) await expect(c.run("fails-once", { key })).rejects.toThrow("fails on purpose");
    const later = await c.submit("add", { a: 2, b: 3 }, { delayMs: 3_600_000 });

    const p = await open(`${server.http}/#/tasks?task=nobody-serves`);
    const table = p.getByRole("table", { name: "Tasks" });
    const rows = table.locator("tbody tr");
    await expect.poll(() => rows.count(), WAIT).toBe(6);
    const dialog = p.getByRole("dialog");
    // Two ticked rows.
    await table.getByRole("checkbox", { name: `Select nobody-serves ${stuck[0]!.id}` }).check();
    await table.getByRole("checkbox", { name: `Select nobody-serves ${stuck[1]!.id}` }).check();
    await expect.poll(() => p.getByTestId("selected-count").textContent(), WAIT).toBe("2 selected");
    await p.getByRole("button", { name: "Cancel selected" }).click();
    await expect.poll(() => dialog.getByRole("heading").textContent(), WAIT).toBe("Cancel 2 tasks?");
    expect(await axeViolations(p), "the bulk confirmation").toEqual([]);
    await dialog.getByRole("button", { name: "Cancel 2 tasks" }).click();
    await expect.poll(async () => (await c.getTask(stuck[1]!.id)).state, WAIT).toBe("cancelled");
    expect((await c.getTask(stuck[2]!.id)).state).toBe("queued");

    // Every queued one the filters match: 4 counted; one moves on before the confirmation, so nothing is done.
    await p.goto(`${server.http}/#/tasks?task=nobody-serves&state=queued`);
    await expect.poll(() => rows.count(), WAIT).toBe(4);
    await p.getByRole("button", { name: "Cancel all…" }).click();
    await expect.poll(() => p.getByTestId("bulk-count").textContent(), WAIT).toBe("4 queued, scheduled or running tasks among the tasks these filters match.");
    await c.cancel(stuck[5]!.id);
    await dialog.getByRole("button", { name: "Cancel 4 tasks" }).click();
    await p.getByText("Nothing was cancelled: 3 tasks match now, not the 4 confirmed").waitFor(WAIT);
    expect((await c.getTask(stuck[2]!.id)).state).toBe("queued");
    await p.getByRole("button", { name: "Cancel all…" }).click();
    await dialog.getByRole("button", { name: "Cancel 3 tasks" }).click();
    await expect.poll(async () => (await c.listTasks({ task: "nobody-serves", state: "cancelled" })).total, WAIT).toBe(6);

    // Retry every failed task: they succeed the second time.
    await p.goto(`${server.http}/#/tasks?state=failed`);
    await expect.poll(() => rows.count(), WAIT).toBe(2);
    await p.getByRole("button", { name: "Retry all…" }).click();
    await dialog.getByRole("button", { name: "Retry 2 tasks" }).click();
    await expect.poll(async () => (await c.listTasks({ task: "fails-once", state: "succeeded" })).total, WAIT).toBe(2);

    // Run now: the delayed task is queued at once and runs.
    await p.goto(`${server.http}/#/tasks?state=scheduled`);
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    await rows.first().getByRole("button", { name: "Run now" }).click();
    expect(await later.result()).toBe(5);

    // The bar fits a phone, and the cards have their tick boxes.
    const phone = await open(`${server.http}/#/tasks?task=nobody-serves`, { viewport: PHONE });
    await expect.poll(() => phone.getByRole("checkbox", { name: /^Select nobody-serves / }).count(), WAIT).toBe(6);
    await phone.getByRole("button", { name: "Retry all…" }).waitFor(WAIT);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  });

  it("shows a task's log lines in its detail view, new ones as the handler writes them", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const c = client(server);
    const done = await c.submit("chatty", { lines: 3 });
    await done.result();
    const p = await open(`${server.http}/#/tasks?open=${done.id}`);
    const log = p.getByTestId("task-log");
    await expect.poll(() => log.locator(".log-line").allTextContents(), WAIT).toEqual([1, 2, 3].map((i) => expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d line ${i} of 3$`))));
    expect(await axeViolations(p), "the detail with its log").toEqual([]);

    // A running task: lines appear while it runs.
    const slow = await c.submit("chatty", { lines: 4, stepMs: 700 });
    await p.goto(`${server.http}/#/tasks?open=${slow.id}`);
    await expect.poll(() => log.locator(".log-line").count(), WAIT).toBeGreaterThanOrEqual(1);
    expect((await slow.status()).state).toBe("running");
    await expect.poll(() => log.locator(".log-line").last().textContent(), WAIT).toMatch(/line 4 of 4$/);
    await p.getByRole("heading", { name: /^Logs \(4 lines\)/ }).waitFor(WAIT);
    // A phone shows it without sideways scroll.
    const phone = await open(`${server.http}/#/tasks?open=${done.id}`, { viewport: PHONE });
    await expect.poll(() => phone.getByTestId("task-log").locator(".log-line").count(), WAIT).toBe(3);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  });
});
