import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTasks, connect } from "./helpers/clients.js";
import { ackedCount, parseProducer } from "./helpers/durability.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";
import { eventually, spawnNode, startServer, startWorker, type ServerProc } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";

// Control planes sharing one PostgreSQL database: one leads, the others stand by and take over.

const TASKS = "test/fixtures/durable-tasks.mjs";
const skip = missing("postgresql");
let postgres: TestPostgres | undefined;
let databases = 0;

beforeAll(async () => {
  if (!skip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const role = (server: ServerProc): string => { const line = server.stdout.find((l) => l.startsWith("fw-server ready")); const m = /role=(\w+)/.exec(line ?? ""); if (!m) throw new Error(`no role in ${JSON.stringify(server.stdout)} ${server.output(20)}`); return m[1]!; };

describe.skipIf(skip)("a group of control planes on PostgreSQL", () => {
  /** Two control planes on a fresh database: the first leads, the second stands by. */
  async function group(): Promise<{ leader: ServerProc; standby: ServerProc; servers: string }> {
    const url = await postgres!.database(`group_${++databases}`);
    const leader = await startServer(["--store", url, "--max-results", "100000"]);
    const standby = await startServer(["--store", url, "--max-results", "100000"]);
    expect([role(leader), role(standby)]).toEqual(["leader", "standby"]);
    return { leader, standby, servers: `${leader.grpc},${standby.grpc}` };
  }

  it("fails over when the leader is killed under load: the standby takes over, workers and producers follow, nothing acknowledged is lost", async () => {
    const { leader, standby, servers } = await group();
    await startWorker(servers, ["--tasks", TASKS, "--concurrency", "100"]);
    const producer = spawnNode("test/fixtures/durable-producer.mjs", [servers, "12000", "500", "keep-going"]);
    await eventually(() => (ackedCount(producer.stdout) >= 3000 ? true : undefined), "3000 acknowledgements", 60_000);
    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    const leading = await standby.waitForLine(/^fw-server leading /, 30_000);
    const tookOver = Date.now();
    await producer.waitForLine(/^done /, 120_000);
    const log = parseProducer(producer.stdout);
    const firstAfter = Math.min(...[...log.ackedAt.values()].filter((at) => at > killedAt));
    console.log(
      `failover: the standby served ${tookOver - killedAt} ms after the kill (${leading.split(" ").slice(1, 2).join("")}); ` +
        `the first submission after the kill was acknowledged ${firstAfter - killedAt} ms after it; ` +
        `${log.acked.size} acknowledged, ${log.refused.length} refused during the failover`,
    );

    const client = connect(standby.grpc);
    const stored = new Map((await allTasks(client)).map((t) => [t.id, t]));
    expect([...log.acked.keys()].filter((id) => !stored.has(id)), "acknowledged ids missing after the failover").toEqual([]);
    for (const id of stored.keys()) await client.result(id, { timeoutMs: 60_000 });
    for (const [id, n] of log.acked) expect(await client.result(id), id).toBe(n * 2);
    for (const task of await allTasks(client)) {
      expect(task.state).toBe("succeeded");
      expect(task.attempts.filter((a) => a.outcome === "succeeded")).toHaveLength(1);
    }
  }, 240_000);

  it("a deposed leader stops acknowledging at once (its session cut with pg_terminate_backend); only the new leader serves", async () => {
    const { leader, standby, servers } = await group();
    await startWorker(servers, ["--tasks", TASKS, "--concurrency", "50"]);
    const producer = spawnNode("test/fixtures/durable-producer.mjs", [servers, "6000", "200", "keep-going"]);
    await eventually(() => (ackedCount(producer.stdout) >= 1000 ? true : undefined), "1000 acknowledgements", 60_000);
    const { rows } = await postgres!.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1",
      [`fw-server pid ${leader.pid}`],
    );
    expect(rows).toEqual([{ done: true }]);
    // The old leader notices at once and exits: 75 when its session check fails first ("lost the lead"),
    // 70 when a write fails first ("cannot write its state"); the standby takes the lead.
    const { code } = await leader.exited;
    expect([70, 75]).toContain(code);
    const lost = leader.stderr.find((l) => /lost the lead of the group|cannot write its state/.test(l))!;
    await standby.waitForLine(/^fw-server leading /, 30_000);
    const leading = standby.stderr.find((l) => l.includes("leading the group"))!;
    // Fencing: the old leader had stopped before the new one began (no moment with two leaders).
    expect(JSON.parse(lost).time).toBeLessThanOrEqual(JSON.parse(leading).time);
    await producer.waitForLine(/^done /, 120_000);
    const log = parseProducer(producer.stdout);
    const client = connect(standby.grpc);
    for (const [id, n] of log.acked) expect(await client.result(id, { timeoutMs: 60_000 }), id).toBe(n * 2);
    for (const task of await allTasks(client)) expect(task.attempts.filter((a) => a.outcome === "succeeded")).toHaveLength(1);
  }, 240_000);

  it("migrates the schema once when two control planes start on a new database at the same moment; the standby points at the leader", async () => {
    const url = await postgres!.database(`group_${++databases}`);
    const both = await Promise.all([startServer(["--store", url]), startServer(["--store", url])]);
    expect(both.map(role).sort()).toEqual(["leader", "standby"]);
    expect(await migrationsIn(url)).toBe(1);
    const leader = both.find((s) => role(s) === "leader")!;
    const standby = both.find((s) => role(s) === "standby")!;
    // Its dashboard sends people to the leader's; its RPCs refuse, naming the leader.
    const page = await fetch(`${standby.http}/?view=tasks`, { redirect: "manual" });
    expect([page.status, page.headers.get("location")]).toEqual([307, `${leader.http}/?view=tasks`]);
    const refused = await connect(standby.grpc).stats().then(() => undefined, (err: unknown) => err);
    expect(String(refused)).toContain(`this control plane is a standby; the leader is at ${leader.grpc}`);
    // A client given both addresses reaches the leader whichever it tries first.
    expect((await connect(`${standby.grpc},${leader.grpc}`).stats()).version).toBeTruthy();
    // A graceful stop of the leader writes what is pending through its session, then hands over.
    expect(await leader.stop("SIGTERM")).toMatchObject({ code: 0 });
    expect(leader.stderr.join("\n")).toMatch(/stopped: 0 queued, 0 scheduled, 0 still running tasks kept in postgresql at postgres/);
    // The same key=value form as the ready line: state= names the database, with no spaces.
    expect(await standby.waitForLine(/^fw-server leading /, 30_000)).toMatch(/ state=postgres(ql)?:\/\/\S+$/);
  });
});

async function migrationsIn(url: string): Promise<number> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM fw_migrations")).rows[0]!.n;
  } finally {
    await client.end();
  }
}
