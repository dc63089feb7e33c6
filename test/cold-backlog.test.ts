import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Code, ConnectError } from "../index.js";
import { connect } from "./helpers/clients.js";
import { eventually, spawnCommand, startServer, startWorker, type ServerProc } from "./helpers/processes.js";

// A durable backlog past --hot-queued (the cold tier: queued tasks kept on disk only), through the
// real binaries: submitted with the real Client, the control plane killed (-9) and started again,
// then drained by a worker that logs every execution.

const TASKS = "test/fixtures/durable-tasks.mjs";
const FLAGS = ["--hot-queued", "100", "--max-queued", "3000", "--max-results", "100000"];
const port = (server: ServerProc): string => server.grpc.split(":").pop()!;

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

describe("a backlog past --hot-queued", () => {
  it("keeps order, lookups, cancels and --max-queued; after kill -9 every acknowledged task runs exactly once, critical first", async () => {
    scratch = mkdtempSync(join(tmpdir(), "fw-cold-"));
    const executions = join(scratch, "executions.log");
    writeFileSync(executions, "");
    const server = await startServer(FLAGS);
    // Results not followed: a followed task's record stays in memory for its follower.
    const client = connect(server, { followResults: false });
    const normal: string[] = [];
    for (let i = 0; i < 29; i++) {
      const handles = await Promise.all(Array.from({ length: 100 }, (_, j) => client.submit("slow", { ms: 1, n: i * 100 + j })));
      normal.push(...handles.map((h) => h.id));
    }
    const critical = (await Promise.all(Array.from({ length: 50 }, (_, n) => client.submit("slow", { ms: 1, n }, { priority: "critical" })))).map((h) => h.id);
    // --max-queued holds with most of the backlog on disk: 2,950 queued, 50 more fit.
    const last = await Promise.allSettled(Array.from({ length: 100 }, (_, n) => client.submit("slow", { ms: 1, n: 5000 + n })));
    const accepted = last.flatMap((r) => (r.status === "fulfilled" ? [r.value.id] : []));
    expect(accepted).toHaveLength(50);
    for (const r of last) if (r.status === "rejected") expect(ConnectError.from(r.reason).code).toBe(Code.ResourceExhausted);
    normal.push(...accepted);

    // A task deep in the backlog is found, listed and cancelled by id.
    const deep = normal[2500]!;
    expect(await client.getTask(deep)).toMatchObject({ id: deep, state: "queued", args: { ms: 1, n: 2500 } });
    expect((await client.cancel(deep)).state).toBe("cancelled");
    const page = await client.listTasks({ limit: 5 });
    expect(page.total).toBe(3000);
    expect(page.tasks.map((t) => t.id)).toEqual(normal.slice(-5).reverse());
    expect((await client.stats()).queued).toEqual({ critical: 50, high: 0, normal: 2949, low: 0 });

    // --check, beside the running control plane, sees the backlog on disk.
    const check = spawnCommand("fw-server", ["--check", "--data-dir", server.state]);
    expect((await check.exited).code).toBe(0);
    expect(check.stdout.join("\n")).toMatch(/tasks 3000 \(queued 2999, cancelled 1\), \d+ of them queued on disk only/);
    expect(check.stdout.join("\n")).toMatch(/ok: every record reads back/);

    await server.stop("SIGKILL");
    const again = await startServer(["--data-dir", server.state, "--port", port(server), ...FLAGS]);
    const after = connect(again, { followResults: false });
    expect((await after.stats()).queued).toEqual({ critical: 50, high: 0, normal: 2949, low: 0 });
    expect((await after.getTask(deep)).state).toBe("cancelled");
    expect((await after.getTask(normal[normal.length - 1]!)).state).toBe("queued");

    await startWorker(again.grpc, ["--tasks", TASKS, "--concurrency", "50"], { FW_TEST_EXEC_LOG: executions });
    await eventually(async () => ((await after.stats()).totals.succeeded >= 2999 ? true : undefined), "the backlog to drain", 90_000);
    const runs = readFileSync(executions, "utf8").trim().split("\n").map((line) => line.split(" ")[0]!);
    const expected = [...critical, ...normal.filter((id) => id !== deep)];
    expect(runs).toHaveLength(expected.length);
    expect(new Set(runs)).toEqual(new Set(expected));
    // Strict priority across the restart: the first 50 to start are the critical ones.
    expect(new Set(runs.slice(0, 50))).toEqual(new Set(critical));
    const stats = await after.stats();
    expect(stats.queued).toEqual({ critical: 0, high: 0, normal: 0, low: 0 });
    expect([stats.succeeded, stats.cancelled]).toEqual([2999, 1]);
  }, 180_000);
});
