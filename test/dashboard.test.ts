import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { launchBrowser, type TestBrowser } from "./helpers/browser.js";
import { startServer, startWorker } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";

// The built-in dashboard in headless Chromium, against real processes on free ports.
// Every wait is on page state (Playwright's auto-waiting locators, expect.poll), never a sleep.

const TASKS = "test/fixtures/dashboard-tasks.mjs";
const WAIT = { timeout: 20_000 };

let browser: TestBrowser;
let page: (Page & { errors: string[] }) | undefined;
let clients: Client[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  const errors = page?.errors ?? [];
  await page?.close();
  page = undefined;
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  expect(errors, "uncaught errors in the page").toEqual([]);
});

async function open(url: string): Promise<Page & { errors: string[] }> {
  page = await browser.newPage();
  await page.goto(url);
  return page;
}

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
    expect(await p.evaluate(() => (globalThis as unknown as { mark?: number }).mark)).toBe(42);
  });

  it("asks for the token and shows nothing without it", async () => {
    const server = await startServer(["--token", "s3cret"]);
    const p = await open(server.http);
    const token = p.getByLabel("Token");
    await token.waitFor(WAIT);
    expect(await p.getByTestId("count-succeeded").count()).toBe(0);

    await token.fill("guess");
    await p.getByRole("button", { name: "Open the dashboard" }).click();
    await p.getByRole("alert").getByText("That token was refused").waitFor(WAIT);
    expect(await p.getByTestId("count-succeeded").count()).toBe(0);

    await token.fill("s3cret");
    await p.getByRole("button", { name: "Open the dashboard" }).click();
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("0");
    // Every call carries it: the task list loads too.
    await p.getByRole("link", { name: /^Tasks/ }).click();
    await p.getByText("No tasks yet").waitFor(WAIT);
  });

  it("says when the control plane is gone and reconnects by itself when it is back", async () => {
    const first = await startServer(["--tasks", TASKS]);
    const client = new Client({ server: first.grpc });
    clients.push(client);
    await client.run("add", { a: 1, b: 2 });
    const p = await open(first.http);
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("1");
    await client.close();

    await first.stop();
    await p.getByRole("alert").getByText(/Cannot reach the control plane/).waitFor(WAIT);
    await expect.poll(text(p, "connection"), WAIT).toBe("offline");

    const port = new URL(first.http).port;
    const second = await startServer(["--http-port", port, "--tasks", TASKS]);
    const again = new Client({ server: second.grpc });
    clients.push(again);
    await expect.poll(text(p, "connection"), WAIT).toBe("live");
    await expect.poll(() => p.getByRole("alert").count(), WAIT).toBe(0);
    // The new control plane's numbers (it starts empty), still live.
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("0");
    await again.run("add", { a: 2, b: 3 });
    await expect.poll(text(p, "count-succeeded"), WAIT).toBe("1");
  });
});
