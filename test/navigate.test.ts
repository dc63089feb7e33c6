import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { runCli, startServer } from "./helpers/processes.js";

// Finding tasks at scale with `fw tasks` (issue 16, item 7): orders, both-way
// pages and the last page, substring and text search, worker and time filters.
// The dashboard's side is in dashboard-operations.test.ts.

interface Listed {
  tasks: { id: string; name: string; priority: string; state: string }[];
  total: number;
  nextPageToken?: string;
  previousPageToken?: string;
}

describe("fw tasks finds tasks at scale", () => {
  it("orders newest, oldest and next-to-run; pages both ways; jumps to the last page", async () => {
    const server = await startServer(["--in-memory"]);
    const client = connect(server);
    const fw = async (...args: string[]): Promise<Listed> => {
      const out = await runCli(["--server", server.grpc, "--json", "tasks", ...args]);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as Listed;
    };
    // Nobody serves "waits": every task stays queued, in the order they will run.
    const priorities = ["low", "normal", "critical", "high", "normal", "low", "critical"] as const;
    const ids: string[] = [];
    for (const [i, priority] of priorities.entries()) ids.push((await client.submit("waits", { i }, { priority })).id);

    expect((await fw("--limit", "3")).tasks.map((t) => t.id)).toEqual([ids[6], ids[5], ids[4]]);
    const oldest = await fw("--order", "oldest", "--limit", "3");
    expect(oldest.tasks.map((t) => t.id)).toEqual([ids[0], ids[1], ids[2]]);
    const next = await fw("--order", "oldest", "--limit", "3", "--page", oldest.nextPageToken!);
    expect(next.tasks.map((t) => t.id)).toEqual([ids[3], ids[4], ids[5]]);
    expect((await fw("--order", "oldest", "--limit", "3", "--page", next.previousPageToken!)).tasks.map((t) => t.id)).toEqual([ids[0], ids[1], ids[2]]);
    // The last page of 7 in pages of 3 holds one task: the oldest, newest first.
    const last = await fw("--last", "--limit", "3");
    expect(last.tasks.map((t) => t.id)).toEqual([ids[0]]);
    expect(last.nextPageToken).toBeUndefined();
    expect((await fw("--limit", "3", "--page", last.previousPageToken!)).tasks.map((t) => t.id)).toEqual([ids[3], ids[2], ids[1]]);
    // The dispatch order: priority, then first queued first.
    const run = await fw("--order", "next-to-run", "--limit", "10");
    expect(run.tasks.map((t) => t.priority)).toEqual(["critical", "critical", "high", "normal", "normal", "low", "low"]);
    expect(run.tasks.map((t) => t.id)).toEqual([ids[2], ids[6], ids[3], ids[1], ids[4], ids[0], ids[5]]);

    // Text for people, with the tokens of the pages around it.
    const text = await runCli(["--server", server.grpc, "tasks", "--limit", "3"]);
    expect(text.stdout).toMatch(/^\(3 of 7\)$/m);
    expect(text.stdout).toMatch(/^next page: --page nf\d+$/m);
    // A token of another order, or both --page and --last, is refused with a reason.
    const mixed = await runCli(["--server", server.grpc, "tasks", "--order", "oldest", "--page", run.nextPageToken ?? "rf0.1.1"]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/another order.*\(invalid_argument\)$/);
    const next2run = await runCli(["--server", server.grpc, "tasks", "--order", "next-to-run", "--state", "succeeded"]);
    expect(next2run.stderr).toMatch(/^fw: the next-to-run order lists waiting tasks .*\(invalid_argument\)$/);
  });

  it("filters by name substring, text in args and errors, worker and creation time", async () => {
    const server = await startServer(["--in-memory", "--tasks", "test/fixtures/dashboard-tasks.mjs"]);
    const client = connect(server);
    const fw = async (...args: string[]): Promise<Listed> => {
      const out = await runCli(["--server", server.grpc, "--json", "tasks", "--limit", "100", ...args]);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as Listed;
    };
    await Promise.all([1, 2, 3].map((a) => client.run("add", { a, b: 1, note: a === 2 ? "Needle in the args" : "hay" })));
    await expect(client.run("fails-once", { key: "smtp" })).rejects.toThrow("fails on purpose");
    const before = new Date();
    await client.run("add", { a: 9, b: 9 });

    expect((await fw("--name-contains", "FAILS")).tasks.map((t) => t.name)).toEqual(["fails-once"]);
    expect((await fw("--search", "needle")).tasks).toHaveLength(1);
    expect((await fw("--search", "ON PURPOSE")).tasks.map((t) => t.name)).toEqual(["fails-once"]); // the error message
    expect((await fw("--name", "add", "--state", "succeeded,failed")).total).toBe(4);
    const [worker] = await client.workers();
    expect((await fw("--worker", worker!.id)).total).toBe(5);
    expect((await fw("--worker", worker!.name)).total).toBe(5);
    expect((await fw("--worker", "nobody")).total).toBe(0);
    expect((await fw("--since", before.toISOString())).tasks.map((t) => t.name)).toEqual(["add"]);
    expect((await fw("--until", before.toISOString())).total).toBe(4);
    expect((await fw("--since", "1h")).total).toBe(5);
    const bad = await runCli(["--server", server.grpc, "tasks", "--since", "yesterday"]);
    expect(bad.code).toBe(2);
  });
});
