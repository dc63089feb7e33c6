import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { axeViolations, browserSession } from "./helpers/browser.js";
import { startServer, startWorker } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";

// The built-in dashboard in headless Chromium, against real processes on free ports.
// Every wait is on page state (Playwright's auto-waiting locators, expect.poll), never a sleep.

const TASKS = "test/fixtures/dashboard-tasks.mjs";
const WAIT = { timeout: 20_000 };

const { open, pages, clients } = browserSession();

const PHONE = { width: 390, height: 844 };

// The page's globals, for the callbacks that run in the browser (page.evaluate): the tests' tsconfig has no DOM types.
interface PageElement {
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  contains(other: PageElement | null): boolean;
}
declare const document: {
  activeElement: PageElement | null;
  body: PageElement;
  documentElement: { scrollWidth: number };
  querySelector(selector: string): PageElement | null;
};
declare const localStorage: { getItem(key: string): string | null };
declare function getComputedStyle(element: unknown): { outlineStyle: string };

const text = (p: Page, testId: string) => () => p.getByTestId(testId).textContent();

describe.skipIf(missing("chromium"))("dashboard", () => {
  it("shows counts live, filters the table, shows a failure, retries and cancels", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", TASKS, "--name", "browser-test-worker"]);
    const client = new Client({ server: server.grpc });
    clients.push(client);

    const p = await open(server.http);
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("0");
    // Marks this document: if the page reloaded, the mark would be gone.
    await p.evaluate(() => ((globalThis as unknown as { mark: number }).mark = 42));

    // Counts change live, without a reload.
    await Promise.all([1, 2, 3, 4, 5].map((a) => client.run("add", { a, b: 1 })));
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("5");
    const failing = await client.submit("fails-once", { key: "k1" });
    await expect(failing.result()).rejects.toThrow("fails on purpose");
    await expect.poll(text(p, "count-failed"), WAIT).toBe("1");
    const sleeper = await client.submit("sleep", { ms: 120_000 });
    await expect.poll(text(p, "count-running"), WAIT).toBe("1");
    expect(await p.evaluate(() => (globalThis as unknown as { mark?: number }).mark)).toBe(42);

    // The workers view lists the worker, live.
    await p.getByRole("link", { name: /^Workers/ }).click();
    const workerRow = p.getByRole("row", { name: /browser-test-worker/ });
    await workerRow.getByText("active").waitFor(WAIT);

    // The task table, filtered by state, then by name, then by id prefix.
    await p.getByRole("link", { name: /^Tasks/ }).click();
    const rows = p.getByRole("table", { name: "Tasks" }).locator("tbody tr");
    const filters = p.getByRole("search", { name: "Filter tasks" });
    await expect.poll(() => rows.count(), WAIT).toBe(7);
    await filters.getByRole("button", { name: "failed", exact: true }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    await expect.poll(() => p.getByTestId("page-range").textContent(), WAIT).toMatch(/^1–1 of 1\b/);
    await filters.getByRole("button", { name: "failed", exact: true }).click(); // off again
    await filters.getByLabel("Task", { exact: true }).fill("add");
    await expect.poll(() => rows.count(), WAIT).toBe(5);
    await filters.getByLabel("Task", { exact: true }).fill("");
    await filters.getByLabel("ID", { exact: true }).fill(failing.id); // ids share a per-run prefix: the whole id is the prefix that matches one
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    await filters.getByLabel("ID", { exact: true }).fill("");
    await expect.poll(() => rows.count(), WAIT).toBe(7);

    // A new task appears in the open table by itself.
    await client.run("add", { a: 10, b: 20 });
    await expect.poll(() => rows.count(), WAIT).toBe(8);

    // The failed task's error, with its stack, in the detail drawer.
    await p.locator(`tr[data-task-id="${failing.id}"]`).click();
    const detail = p.getByRole("dialog", { name: "Task detail" });
    await detail.getByText("NonRetryableError", { exact: true }).waitFor(WAIT);
    await detail.getByLabel("stack trace").getByText(/first run of k1 fails on purpose/).waitFor(WAIT);
    await detail.getByLabel("arguments").getByText('"key": "k1"').waitFor(WAIT);

    // Retry, confirmed: the second run succeeds, and the page shows it.
    await detail.getByRole("button", { name: "Retry" }).click();
    await p.getByRole("dialog", { name: "Retry this task?" }).getByRole("button", { name: "Retry task" }).click();
    await p.getByRole("status").getByText(/Retrying fails-once/).waitFor(WAIT);
    await detail.locator(".detail-status .badge-succeeded").waitFor(WAIT);
    await detail.getByLabel("result").getByText('"ok": true').waitFor(WAIT);
    // The second run is the first attempt of a second series, not "attempt 2 of 1".
    await expect.poll(() => detail.getByTestId("attempt").textContent(), WAIT).toBe("1 of 1 · series 2 · 2 dispatches in all");
    await detail.getByRole("heading", { name: "Series 2 (retried)" }).waitFor(WAIT);
    expect((await client.getTask(failing.id)).state).toBe("succeeded");
    await expect.poll(() => p.locator(`tr[data-task-id="${failing.id}"]`).getAttribute("data-state"), WAIT).toBe("succeeded");
    await detail.getByRole("button", { name: "Close the task detail" }).click();

    // Cancel the running task from its row, confirmed: the handler is aborted.
    const running = p.locator(`tr[data-task-id="${sleeper.id}"]`);
    await expect.poll(() => running.getAttribute("data-state"), WAIT).toBe("running");
    await running.getByRole("button", { name: "Cancel" }).click();
    await p.getByRole("dialog", { name: "Cancel this task?" }).getByRole("button", { name: "Cancel task" }).click();
    await expect.poll(() => running.getAttribute("data-state"), WAIT).toBe("cancelled");
    await expect(sleeper.result()).rejects.toThrow(/cancelled/);

    // And the overview agrees.
    await p.getByRole("link", { name: "Overview" }).click();
    await expect.poll(text(p, "count-cancelled"), WAIT).toBe("1");
    await expect.poll(text(p, "count-running"), WAIT).toBe("0");
    await expect.poll(text(p, "count-failed"), WAIT).toBe("0");
    // Kept vs since start: the failure is no longer kept (its task succeeded on retry), but it happened.
    await expect.poll(text(p, "total-failed"), WAIT).toBe("1");
    expect(await p.getByRole("link", { name: /^Failed/ }).textContent()).toBe("Failed0 kept1 since start");
    // The failure rate's title and legend say the same number, with the counts beside it, greyed: too few finished to tell.
    const failureRate = p.locator("figure.chart figcaption").filter({ hasText: "Failure rate" });
    const caption = (await failureRate.textContent())!;
    expect(caption).toMatch(/^Failure rate · ([\d.]+%) · \d+ failed of \d+ finished, last \d+ s \(too few to tell\)failed \1$/);
    expect(await failureRate.getAttribute("class")).toBe("chart-dim");
    expect(await p.evaluate(() => (globalThis as unknown as { mark?: number }).mark)).toBe(42);
  });

  it("asks for the token and shows nothing without it", async () => {
    const server = await startServer(["--token", "s3cret-0123456789abcdef"]);
    const p = await open(server.http);
    const token = p.getByLabel("Token");
    await token.waitFor(WAIT);
    expect(await p.getByTestId("count-succeeded").count()).toBe(0);

    await token.fill("guess-0123456789abcdef");
    await p.getByRole("button", { name: "Open the dashboard" }).click();
    await p.getByRole("alert").getByText("That token was refused").waitFor(WAIT);
    expect(await p.getByTestId("count-succeeded").count()).toBe(0);

    await token.fill("s3cret-0123456789abcdef");
    await p.getByRole("button", { name: "Open the dashboard" }).click();
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("0");
    // Every call carries it: the task list loads too.
    await p.getByRole("link", { name: /^Tasks/ }).click();
    await p.getByText("No tasks yet").waitFor(WAIT);
  });

  it("says once when the control plane is gone, retries now on request, reconnects by itself, and says it restarted", async () => {
    const first = await startServer(["--tasks", TASKS]);
    const client = new Client({ server: first.grpc });
    clients.push(client);
    const done = await client.submit("add", { a: 1, b: 2 });
    await done.result();
    const p = await open(first.http);
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("1");
    // A second tab holds the task's detail open across the restart.
    const q = await open(`${first.http}/#/tasks?open=${done.id}`);
    const detail = q.getByRole("dialog", { name: "Task detail" });
    await detail.locator(".detail-status .badge-succeeded").waitFor(WAIT);
    await client.close();

    await first.stop();
    const alert = p.getByRole("alert");
    await alert.getByText(/Cannot reach the control plane/).waitFor(WAIT);
    await expect.poll(text(p, "connection"), WAIT).toBe("offline");
    // Said once: not "Cannot reach the control plane (cannot reach the control plane)".
    expect((await alert.textContent())!.match(/cannot reach the control plane/gi)).toHaveLength(1);
    // "Retry now" tries at once instead of waiting out the backoff.
    const retried = p.waitForRequest(/AdminService\/WatchStats/, WAIT);
    await p.getByRole("button", { name: "Retry now" }).click();
    await retried;
    await expect.poll(text(p, "connection"), WAIT).toBe("offline");

    const port = new URL(first.http).port;
    const second = await startServer(["--http-port", port, "--tasks", TASKS]);
    const again = new Client({ server: second.grpc });
    clients.push(again);
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    await expect.poll(() => p.getByRole("alert").count(), WAIT).toBe(0);
    // It says the control plane restarted (its start time changed), and shows the new one's numbers (it starts empty), still live.
    await p.getByRole("status").getByText(/The control plane restarted at/).waitFor(WAIT);
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("0");
    await again.run("add", { a: 2, b: 3 });
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("1");
    // The open detail was loaded again, not left showing what the old control plane said.
    await detail.getByRole("alert").getByText(new RegExp(`no task "${done.id}"`)).waitFor(WAIT);
    await expect.poll(() => detail.locator(".detail-status").count(), WAIT).toBe(0);
  });

  it("fits a phone (390×844): no sideways scroll, tabs and live indicator in view, tasks as cards with their actions in reach, filters folded", async () => {
    const server = await startServer(["--tasks", TASKS]);
    const client = new Client({ server: server.grpc });
    clients.push(client);
    await Promise.all([1, 2, 3].map((a) => client.run("add", { a, b: 1 })));
    const failing = await client.submit("fails-once", { key: "phone" });
    await expect(failing.result()).rejects.toThrow("fails on purpose");

    const p = await open(server.http, { viewport: PHONE });
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("3");
    const pageWidth = (): Promise<number> => p.evaluate(() => document.documentElement.scrollWidth);
    const within = async (locator: Locator, vertically = true): Promise<boolean> => {
      const box = await locator.boundingBox();
      return box !== null && box.x >= 0 && box.x + box.width <= PHONE.width && (!vertically || (box.y >= 0 && box.y + box.height <= PHONE.height));
    };
    const views: [string, Locator][] = [
      ["Overview", p.getByTestId("count-failed")],
      ["Workers", p.getByRole("list", { name: "Workers" }).getByText(/^embedded-/)],
      ["Tasks", p.getByRole("list", { name: "Tasks" }).locator(`li[data-task-id="${failing.id}"]`)],
    ];
    for (const [tab, shown] of views) {
      await p.getByRole("link", { name: new RegExp(`^${tab}`) }).click();
      await shown.waitFor(WAIT);
      expect(await pageWidth(), `${tab}: page width`).toBeLessThanOrEqual(PHONE.width);
      expect(await within(p.getByRole("link", { name: /^Tasks/ })), `${tab}: the Tasks tab`).toBe(true);
      expect(await within(p.getByTestId("connection")), `${tab}: the live indicator`).toBe(true);
    }

    // Tasks as cards, the filters folded: the newest task shows near the top, its action in reach.
    const cards = p.getByRole("list", { name: "Tasks" }).locator("li[data-task-id]");
    await expect.poll(() => cards.count(), WAIT).toBe(4);
    expect(await p.getByRole("search", { name: "Filter tasks" }).count()).toBe(0);
    expect((await cards.first().boundingBox())!.y).toBeLessThan(200);
    const failed = cards.and(p.locator(`[data-task-id="${failing.id}"]`));
    expect(await within(failed.getByRole("button", { name: "Retry" }))).toBe(true);

    // Unfold, filter, fold again: the button says a filter is on.
    await p.getByRole("button", { name: /^Filters/ }).click();
    await p.getByRole("search", { name: "Filter tasks" }).getByRole("button", { name: "failed", exact: true }).click();
    await expect.poll(() => cards.count(), WAIT).toBe(1);
    expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
    await p.getByRole("button", { name: /^Filters \(1 on\)/ }).click();
    expect(await p.getByRole("search", { name: "Filter tasks" }).count()).toBe(0);

    // The detail fits too; Escape closes it and the focus goes back to the task.
    await failed.getByRole("link").click();
    const detail = p.getByRole("dialog", { name: "Task detail" });
    await detail.getByText("NonRetryableError", { exact: true }).waitFor(WAIT);
    expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
    expect(await within(detail.getByRole("button", { name: "Retry" }), false)).toBe(true);
    await p.keyboard.press("Escape");
    await detail.waitFor({ state: "detached", ...WAIT });
    expect(await p.evaluate(() => document.activeElement?.closest("[data-task-id]")?.getAttribute("data-task-id"))).toBe(failing.id);
  });

  it("has no serious or critical accessibility violations (axe-core) on each view, the detail and the token form, light and dark", async () => {
    const server = await startServer(["--tasks", TASKS]);
    const gated = await startServer(["--token", "s3cret-0123456789abcdef"]);
    const client = new Client({ server: server.grpc });
    clients.push(client);
    await client.run("add", { a: 1, b: 1 });
    const failing = await client.submit("fails-once", { key: "axe" });
    await expect(failing.result()).rejects.toThrow("fails on purpose");
    const sleeper = await client.submit("sleep", { ms: 120_000 });

    for (const colorScheme of ["light", "dark"] as const) {
      const p = await open(server.http, { colorScheme });
      const check = async (where: string): Promise<void> => expect(await axeViolations(p), `${where}, ${colorScheme}`).toEqual([]);
      await expect.poll(text(p, "count-running"), WAIT).toBe("1");
      await check("overview");
      await p.getByRole("link", { name: /^Workers/ }).click();
      await p.getByRole("table", { name: "Workers" }).waitFor(WAIT);
      await check("workers");
      await p.getByRole("link", { name: /^Tasks/ }).click();
      const rows = p.getByRole("table", { name: "Tasks" }).locator("tbody tr");
      await expect.poll(() => rows.count(), WAIT).toBe(3);
      await p.getByRole("search", { name: "Filter tasks" }).getByRole("button", { name: "failed", exact: true }).click(); // a pressed chip
      await expect.poll(() => rows.count(), WAIT).toBe(1);
      await check("tasks");

      // A row shows keyboard focus; Enter opens the detail, a modal: focus stays in it, Escape closes it and focus returns to the row.
      const link = p.locator(`tr[data-task-id="${failing.id}"] .row-link`);
      await link.focus();
      expect(await p.locator(`tr[data-task-id="${failing.id}"]`).evaluate((row) => getComputedStyle(row).outlineStyle)).toBe("solid");
      await p.keyboard.press("Enter");
      const detail = p.getByRole("dialog", { name: "Task detail" });
      await detail.getByText("NonRetryableError", { exact: true }).waitFor(WAIT);
      await check("detail");
      for (let i = 0; i < 12; i++) {
        await p.keyboard.press("Tab");
        // Inside the dialog, or (between the last and the first element) nowhere: never the page behind it.
        expect(await p.evaluate(() => document.activeElement === document.body || document.querySelector("dialog[open]")!.contains(document.activeElement))).toBe(true);
      }
      await p.keyboard.press("Escape");
      await detail.waitFor({ state: "detached", ...WAIT });
      expect(await p.evaluate(() => document.activeElement?.closest("tr")?.getAttribute("data-task-id"))).toBe(failing.id);

      const login = await open(gated.http, { colorScheme });
      await login.getByLabel("Token").fill("guess-0123456789abcdef");
      await login.getByRole("button", { name: "Open the dashboard" }).click();
      await login.getByRole("alert").getByText(/refused/).waitFor(WAIT);
      expect(await axeViolations(login), `token form, ${colorScheme}`).toEqual([]);
    }
    await client.cancel(sleeper.id);
  });

  it("shows schedules (next runs, last run and its outcome, paused) with their actions, and flow limits with their use", async () => {
    const server = await startServer(["--tasks", "test/fixtures/schedule-tasks.mjs", "--tasks", "test/fixtures/limit-tasks.mjs"]);
    const client = new Client({ server: server.grpc });
    clients.push(client);
    await client.createSchedule({ id: "nightly", task: "report", cron: "0 3 * * *", tz: "Europe/Paris", paused: true });
    const slow = await Promise.all([1, 2, 3, 4, 5].map((i) => client.submit("resize", { ms: 60_000, i })));

    for (const colorScheme of ["light", "dark"] as const) {
      const p = await open(`${server.http}/#/schedules`, { colorScheme });
      const heartbeat = p.locator('tr[data-schedule="heartbeat"]');
      await heartbeat.getByText("succeeded").first().waitFor(WAIT); // its last run and how it ended
      await heartbeat.getByText(/^in \d/).waitFor(WAIT); // the next run
      await p.locator('tr[data-schedule="nightly"]').getByText("paused", { exact: true }).first().waitFor(WAIT);
      const resize = p.locator('tr[data-limit="resize"]');
      await resize.getByText("3 running").waitFor(WAIT);
      await expect.poll(() => resize.locator("td.num").allTextContents(), WAIT).toEqual(["3", "2"]); // running, held back
      expect(await axeViolations(p), `schedules, ${colorScheme}`).toEqual([]);
    }
    const p = pages.at(-1)!;
    const nightly = p.locator('tr[data-schedule="nightly"]');
    await nightly.getByRole("button", { name: "Run now" }).click();
    await expect.poll(async () => (await client.getSchedule("nightly")).runs, WAIT).toBe(1);
    await nightly.getByRole("link").getByText(/queued|running|succeeded/).waitFor(WAIT);
    await nightly.getByRole("button", { name: "Resume" }).click();
    await expect.poll(async () => (await client.getSchedule("nightly")).paused, WAIT).toBe(false);
    await p.locator('tr[data-schedule="heartbeat"]').getByRole("button", { name: "Pause" }).click();
    await expect.poll(async () => (await client.getSchedule("heartbeat")).paused, WAIT).toBe(true);
    await nightly.getByRole("button", { name: "Delete" }).click();
    await p.getByRole("dialog").getByRole("button", { name: "Delete schedule" }).click();
    await nightly.waitFor({ state: "detached", ...WAIT });
    expect((await client.listSchedules()).map((s) => s.id)).toEqual(["heartbeat"]);
    await Promise.all(slow.map((h) => h.cancel()));
  });

  it("remembers the token in this browser until sign-out, keeps the focus on a refused one, and opens a shared link after sign-in", async () => {
    const server = await startServer(["--token", "s3cret-0123456789abcdef", "--tasks", TASKS]);
    const client = new Client({ server: server.grpc, token: "s3cret-0123456789abcdef" });
    clients.push(client);
    const failing = await client.submit("fails-once", { key: "shared" });
    await expect(failing.result()).rejects.toThrow("fails on purpose");

    // A link someone shared: the failed tasks, one of them open.
    const p = await open(`${server.http}/#/tasks?state=failed&open=${failing.id}`);
    const field = p.getByLabel("Token");
    await field.fill("guess-0123456789abcdef");
    await field.press("Enter");
    await p.getByRole("alert").getByText(/^That token was refused: the control plane answered/).waitFor(WAIT);
    expect(await p.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("token");
    expect(await field.inputValue()).toBe("guess-0123456789abcdef");
    expect(await field.getAttribute("aria-invalid")).toBe("true");

    await field.fill("s3cret-0123456789abcdef");
    await field.press("Enter");
    const detail = p.getByRole("dialog", { name: "Task detail" });
    await detail.getByText("NonRetryableError", { exact: true }).waitFor(WAIT);
    await p.keyboard.press("Escape");
    await detail.waitFor({ state: "detached", ...WAIT });
    expect(await p.getByRole("search", { name: "Filter tasks" }).getByRole("button", { name: "failed", exact: true }).getAttribute("aria-pressed")).toBe("true");

    // Remembered by this browser: a reload and another tab need no token.
    await p.reload();
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    const other = await open(server.http);
    await expect.poll(text(other, "connection"), WAIT).toBe("live");
    await expect.poll(text(other, "count-failed"), WAIT).toBe("1");

    // Until sign-out.
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.getByLabel("Token").waitFor(WAIT);
    expect(await other.getByTestId("count-failed").count()).toBe(0);
    expect(await other.evaluate(() => localStorage.getItem("fastworker.token"))).toBeNull();
    await other.reload();
    await other.getByLabel("Token").waitFor(WAIT);
  });

  it("follows a running task's progress in its row and its open detail, the label said once", async () => {
    const server = await startServer(["--tasks", TASKS]);
    const client = new Client({ server: server.grpc });
    clients.push(client);
    const p = await open(`${server.http}/#/tasks`);
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    const handle = await client.submit("progress", { steps: 20, stepMs: 400 });

    const row = p.locator(`tr[data-task-id="${handle.id}"]`);
    await row.getByTestId("progress").waitFor(WAIT);
    await row.click();
    const detail = p.getByRole("dialog", { name: "Task detail" });
    const bar = detail.getByTestId("progress");
    await bar.waitFor(WAIT);
    const fraction = (): Promise<number> => bar.locator("progress").evaluate((e) => (e as unknown as { value: number }).value);
    const opened = await fraction();
    await expect.poll(fraction, WAIT).toBeGreaterThanOrEqual(Math.min(1, opened + 0.25));
    expect(await bar.locator(".progress-text").textContent()).toMatch(/^\d+% of 8000 ms$/);

    await handle.result();
    await detail.locator(".detail-status .badge-succeeded").waitFor(WAIT);
    expect(await detail.getByTestId("progress").count()).toBe(0);
  });
});
