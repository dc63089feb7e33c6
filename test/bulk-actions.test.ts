import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { eventually, runCli, startServer } from "./helpers/processes.js";

// Actions on many tasks and "run now" (issue 16, item 4) through `fw` and the Client, against
// real processes: a dry run counts, the count confirms, a count that no longer holds does nothing.
// The dashboard's side is in dashboard-operations.test.ts.

const TASKS = "test/fixtures/dashboard-tasks.mjs";

describe("bulk cancel and retry", () => {
  it("fw cancel / fw retry with filters: a dry run that prints the confirming command, then --confirm COUNT", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const client = connect(server);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const stuck: { id: string }[] = [];
    for (let i = 0; i < 5; i++) stuck.push(await client.submit("nobody-serves", { i }));
    for (const key of ["a", "b", "c"]) await expect(client.run("fails-once", { key })).rejects.toThrow("fails on purpose");

    const dry = await fw("cancel", "--task", "nobody-serves");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(`5 queued, scheduled or running tasks match (dry run: nothing done). To cancel them:\n  fw --server ${server.grpc} cancel --task nobody-serves --confirm 5`);
    expect((await client.getTask(stuck[0]!.id)).state).toBe("queued");
    expect(JSON.parse((await fw("--json", "cancel", "--task", "nobody-serves")).stdout)).toEqual({ matched: 5, done: 0, skipped: 0, dryRun: true });
    // A count that no longer holds does nothing.
    await client.cancel(stuck[4]!.id);
    const stale = await fw("cancel", "--task", "nobody-serves", "--confirm", "5");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe("fw: 4 tasks match now, not the 5 confirmed (tasks moved on meanwhile); nothing was done: count again with a dry run (failed_precondition)");
    expect((await client.getTask(stuck[0]!.id)).state).toBe("queued");
    const done = await fw("cancel", "--task", "nobody-serves", "--confirm", "4", "--reason", "clean-up");
    expect(done.stdout).toBe("cancelled 4 tasks");
    const cancelled = await client.getTask(stuck[0]!.id);
    expect(cancelled.state).toBe("cancelled");
    expect(cancelled.error?.message).toBe("clean-up");

    // Retry every failed task: the three fails-once tasks (the cancelled ones are not failed).
    const retryDry = await fw("retry", "--all-failed");
    expect(retryDry.stdout).toMatch(/^3 failed or cancelled tasks match \(dry run: nothing done\)\. To retry them:\n {2}fw .* retry --all-failed --confirm 3$/);
    expect((await fw("retry", "--all-failed", "--confirm", "3")).stdout).toBe("retried 3 tasks");
    await eventually(async () => ((await client.listTasks({ task: "fails-once", state: "succeeded" })).total === 3 ? true : undefined), "the retried tasks to succeed");
    expect((await fw("retry", "--all-failed")).stdout).toBe("no failed or cancelled task matches: nothing to retry");

    // Usage errors: nothing selected, or an id with filters.
    expect((await fw("cancel")).code).toBe(2);
    expect((await fw("cancel", stuck[0]!.id, "--task", "x")).stderr).toBe("fw: give a task id, or filters to cancel many tasks, not both");
    expect((await fw("retry", "--all", "--task", "x")).code).toBe(2);
  });

  it("the Client acts on listed ids (row checkboxes): unknown ids and tasks in other states are skipped and counted", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const client = connect(server);
    const a = await client.submit("nobody-serves", {});
    const b = await client.submit("nobody-serves", {});
    const finished = await client.submit("add", { a: 1, b: 1 });
    await finished.result();
    const ids = [a.id, b.id, finished.id, "no-such-id"];
    expect(await client.cancelMany({ ids })).toEqual({ matched: 2, done: 0, skipped: 2, dryRun: true });
    expect(await client.cancelMany({ ids, expectedCount: 2 })).toEqual({ matched: 2, done: 2, skipped: 2, dryRun: false });
    expect((await client.getTask(b.id)).state).toBe("cancelled");
    expect(await client.retryMany({ ids: [a.id, b.id], expectedCount: 2 })).toMatchObject({ done: 2 });
    expect((await client.getTask(a.id)).state).toBe("queued");
    // Acting without a confirmed count is refused.
    await expect(client.cancelMany({ ids, expectedCount: 0 })).rejects.toThrow(/ask with dry_run first/);
  });
});

describe("run now", () => {
  it("fw run-now queues a delayed task at once; a task that is not scheduled is refused", async () => {
    const server = await startServer(["--in-memory", "--tasks", TASKS]);
    const client = connect(server);
    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const later = await client.submit("add", { a: 2, b: 3 }, { delayMs: 3_600_000 });
    expect((await later.status()).state).toBe("scheduled");
    const now = await fw("run-now", later.id);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(new RegExp(`^${later.id} (queued|running|succeeded)$`));
    expect(await later.result()).toBe(5);
    const again = await fw("run-now", later.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`fw: task ${later.id} is succeeded; only a scheduled task (delayed, or waiting to retry) can be run now (failed_precondition)`);
  });
});
