import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { eventually, runCli, startServer, startWorker, type ServerProc } from "./helpers/processes.js";
import { maxOverlap, taskLog } from "./helpers/task-log.js";

const TASKS = "test/fixtures/limit-tasks.mjs";
const port = (server: ServerProc): string => server.grpc.split(":").pop()!;

describe("flow limits, enforced by the control plane across workers", () => {
  it("concurrency 3 over 50 tasks on 3 workers of concurrency 10: never more than 3 running, all complete", async () => {
    const log = taskLog();
    const server = await startServer();
    await Promise.all([1, 2, 3].map(() => startWorker(server.grpc, ["--tasks", TASKS, "--concurrency", "10"], log.env)));
    const client = connect(server);
    const handles = await Promise.all(Array.from({ length: 50 }, (_, i) => client.submit("resize", { ms: 40, i })));
    await Promise.all(handles.map((h) => h.result({ timeoutMs: 60_000 })));
    const events = log.read();
    expect(events.filter((e) => e.event === "end")).toHaveLength(50);
    expect(maxOverlap(events, "resize")).toBe(3); // at the limit, never past it
    expect(new Set(events.map((e) => e.pid)).size).toBeGreaterThan(1); // spread over the workers
  });

  it("a rate limit of 20/s over 100 tasks: at most 20 + 20·T starts in any window T, about 4 s after the burst", async () => {
    const log = taskLog();
    const server = await startServer();
    await Promise.all([1, 2].map(() => startWorker(server.grpc, ["--tasks", TASKS, "--concurrency", "50"], log.env)));
    const client = connect(server);
    const handles = await Promise.all(Array.from({ length: 100 }, (_, i) => client.submit("send-email", { i })));
    // Held back, queued (not failed), saying why and when.
    const waiting = await client.getTask(handles[99]!.id);
    expect(waiting.state).toBe("queued");
    expect(waiting.statusMessage).toMatch(/held back by its rate limit \(20 "send-email" starts per 1s\); the next may start in \d/);
    await Promise.all(handles.map((h) => h.result({ timeoutMs: 60_000 })));
    // The control plane's own dispatch times (one clock, the instants the limiter admitted them)…
    const dispatched: number[] = [];
    for (const h of handles) dispatched.push((await client.getTask(h.id)).attempts[0]!.dispatchedAt!.getTime());
    dispatched.sort((a, b) => a - b);
    for (let i = 0; i + 40 < dispatched.length; i++) expect(dispatched[i + 40]! - dispatched[i]!, `starts ${i}..${i + 40}`).toBeGreaterThanOrEqual(1000);
    expect(dispatched[99]! - dispatched[0]!).toBeGreaterThanOrEqual(4000 - 1);
    // …and the tasks' own log: each ran once, in the same span.
    const starts = log.read().filter((e) => e.event === "start").map((e) => e.t).sort((a, b) => a - b);
    expect(starts).toHaveLength(100);
    expect(starts[99]! - starts[0]!).toBeGreaterThanOrEqual(3900);
  });

  it("a limited name does not delay an unlimited one, nor another key of its own", async () => {
    const log = taskLog();
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", TASKS, "--concurrency", "20"], log.env);
    const client = connect(server);
    const slow = await Promise.all(Array.from({ length: 30 }, (_, i) => client.submit("resize", { ms: 1000, i }, { priority: "critical" })));
    const c1 = await Promise.all([1, 2, 3].map((i) => client.submit("per-customer", { customer: "c1", ms: 1000, i })));
    const quick = await Promise.all(Array.from({ length: 10 }, (_, i) => client.submit("free", { i }, { priority: "low" })));
    const c2 = await client.submit("per-customer", { customer: "c2" });
    await Promise.all([...quick, c2].map((h) => h.result({ timeoutMs: 30_000 })));
    const events = log.read();
    const firstSlowEnd = Math.min(...events.filter((e) => e.event === "end" && e.name !== "free" && !(e.args as { customer?: string } | undefined)?.customer).map((e) => e.t), Number.POSITIVE_INFINITY);
    const freeStarts = events.filter((e) => e.event === "start" && e.name === "free").map((e) => e.t);
    expect(freeStarts).toHaveLength(10);
    // Every low-priority free task started before any of the 27 held-back critical resize tasks could.
    for (const t of freeStarts) expect(t).toBeLessThan(firstSlowEnd);
    const c2Start = events.find((e) => e.event === "start" && (e.args as { customer?: string }).customer === "c2")!.t;
    const c1Starts = events.filter((e) => e.event === "start" && (e.args as { customer?: string }).customer === "c1").map((e) => e.t);
    // c2 did not wait behind c1's queue: it started while c1's first task (1 s) still ran, and its others waited.
    expect(c1Starts).toHaveLength(1);
    expect(c2Start - c1Starts[0]!).toBeLessThan(1000);
    expect((await client.listLimits("per-customer"))[0]).toMatchObject({ waiting: 2, running: 1 });
    await Promise.all([...slow, ...c1].map((h) => h.cancel()));
  });

  it("fw limits set / clear override at run time, survive a restart, and show in fw stats and /metrics", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", TASKS]);
    const cli = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const set = await cli("limits", "set", "free", "--concurrency", "2", "--rate", "100/1m");
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/free\s+2 running, 100\/1m\s+-\s+2 running, 100\/1m/);
    expect((await cli("limits", "set", "free", "--rate", "ten")).stderr).toMatch(/--rate "ten": use MAX\/WINDOW/);
    expect((await cli("limits", "set", "free", "--key", "customer")).stderr).toMatch(/neither args:\/json\/pointer nor metadata:NAME \(invalid_argument\)/);
    const stats = await cli("stats");
    expect(stats.stdout).toMatch(/limit: +free: 0 running, 0 held back \(2 running, 100\/1m, 100 tokens\)/);
    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    expect(metrics).toMatch(/fastworker_limit_concurrency\{task="free"[^}]*\} 2/);
    expect(metrics).toMatch(/fastworker_limit_running\{task="resize"[^}]*\} 0/);

    await server.stop("SIGKILL");
    const again = await startServer(["--data-dir", server.state, "--port", port(server)]);
    const after = await runCli(["--server", again.grpc, "--json", "limits", "free"]);
    expect(JSON.parse(after.stdout)).toMatchObject({ task: "free", override: { concurrency: 2, rateLimit: { max: 100, perMs: 60_000 } } });
    const cleared = await runCli(["--server", again.grpc, "--json", "limits", "clear", "free"]);
    expect(JSON.parse(cleared.stdout).override).toBeUndefined();
    await eventually(async () => ((await runCli(["--server", again.grpc, "limits"])).stdout.includes("resize") ? true : undefined), "declared limits listed");
  });
});
