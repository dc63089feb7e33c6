import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { eventually, runCli, startServer } from "./helpers/processes.js";

// The numbers `fw` prints, checked against what happened (issue 16, item 5). The
// dashboard's side is in dashboard.test.ts (failure-rate title and legend) and
// dashboard-model.test.ts (rates over the window the samples cover).

describe("fw says the right numbers", () => {
  it("refuses --args with a number JSON cannot carry instead of sending null", async () => {
    const server = await startServer(["--in-memory", "--tasks", "test/fixtures/basic-tasks.mjs"]);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const infinite = await fw("submit", "echo", "--args", "1e999", "--wait");
    expect(infinite).toMatchObject({ code: 2, stdout: "" });
    expect(infinite.stderr).toBe("fw: --args has the number 1e999, too large for a double (it reads as Infinity, which JSON cannot hold)");
    const nested = await fw("submit", "echo", "--args", '{"a":[0,-2e400]}');
    expect(nested.code).toBe(2);
    expect(nested.stderr).toMatch(/the number -2e400, .*-Infinity/);
    expect((await fw("schedule", "add", "s", "echo", "--every", "1h", "--args", "1e999")).code).toBe(2);
    // Nothing was submitted.
    expect(JSON.parse((await fw("--json", "stats")).stdout).totals.submitted).toBe(0);
    expect(await fw("submit", "echo", "--args", '"1e999"', "--wait")).toMatchObject({ code: 0, stdout: "1e999" });
  });

  it("fw stats shows the failure rate with its counts and the time they cover, and says when they are too few", async () => {
    const server = await startServer(["--in-memory", "--tasks", "test/fixtures/dashboard-tasks.mjs"]);
    const client = connect(server);
    await Promise.all([1, 2, 3].map((a) => client.run("add", { a, b: 1 })));
    await expect(client.run("always-fails", null)).rejects.toThrow("fails on purpose");
    const stats = (await runCli(["--server", server.grpc, "stats"])).stdout;
    // 1 of 4 in a window of at most 10 s: the rate and the counts from the same window.
    expect(stats).toMatch(/^throughput: \d+\.\d tasks\/s, failure rate 25\.0% \(1 failed of 4 finished in the last \d+\.\d s; too few to tell\)$/m);
    const json = JSON.parse((await runCli(["--server", server.grpc, "--json", "stats"])).stdout);
    expect(json.recent).toMatchObject({ finished: 4, failed: 1 });
    expect(json.recent.windowMs).toBeGreaterThan(0);
    expect(json.recent.windowMs).toBeLessThanOrEqual(10_000);
    // The throughput is the count over the time covered, not over a nominal 10 s.
    expect(json.throughput).toBeCloseTo((json.recent.finished * 1000) / json.recent.windowMs, 6);
  });

  it("fw status says the attempt within its series even when a task was cancelled while waiting to retry, then retried", async () => {
    const server = await startServer(["--in-memory", "--tasks", "test/fixtures/dashboard-tasks.mjs"]);
    const client = connect(server);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    // Three attempts allowed, a minute between them: after the first failure it waits, SCHEDULED.
    const handle = await client.submit("always-fails", null, { retry: { maxAttempts: 3, initialBackoffMs: 60_000, maxBackoffMs: 60_000 } });
    await eventually(async () => ((await client.getTask(handle.id)).state === "scheduled" ? true : undefined), "the first attempt to fail");
    await client.cancel(handle.id);
    await client.retry(handle.id);
    await eventually(async () => ((await client.getTask(handle.id)).attempt === 2 ? true : undefined), "the retried task's first attempt");
    const status = (await fw("status", handle.id)).stdout;
    // Its attempts alone look like a plain retry ("2 of 3"); the control plane knows it is the first of series 2.
    expect(status).toMatch(/^attempt: {3}1 of 3 · series 2 \(2 dispatches in all\)$/m);
    expect(status).toMatch(/^ {2}series 2 \(retried\):\n {2}attempt 2: /m);
    const json = JSON.parse((await fw("--json", "status", handle.id)).stdout);
    expect(json).toMatchObject({ series: 2, seriesAttempt: 1, attempt: 2, maxAttempts: 3 });
    expect(json.attempts.map((a: { series: number }) => a.series)).toEqual([1, 2]);
    // Listings say it too (no attempts in the BASIC view).
    const listed = JSON.parse((await fw("--json", "tasks")).stdout).tasks[0];
    expect(listed).toMatchObject({ series: 2, seriesAttempt: 1 });
  });
});
