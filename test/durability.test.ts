import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Code, ConnectError, type Client } from "../index.js";
import { allTasks, connect } from "./helpers/clients.js";
import { ackedCount, lostAcknowledgements, parseProducer } from "./helpers/durability.js";
import { eventually, spawnCommand, spawnNode, startServer, startWorker, tempDataDir, type ServerProc } from "./helpers/processes.js";

// Every control plane here is killed and started again on the same data directory and port, as a
// supervisor (systemd, Kubernetes) would: workers and clients keep their addresses.

const TASKS = "test/fixtures/durable-tasks.mjs";
const ROUNDS = Number(process.env.FW_DURABILITY_ROUNDS ?? 3);
const port = (server: ServerProc): string => server.grpc.split(":").pop()!;
const restart = (server: ServerProc, extra: readonly string[] = []): Promise<ServerProc> =>
  startServer(["--data-dir", server.state, "--port", port(server), ...extra]);

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** Waits for every task's outcome on one session (batched follows), failing on any that failed. */
async function results(client: Client, ids: Iterable<string>): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  await Promise.all([...ids].map(async (id) => out.set(id, await client.result(id, { timeoutMs: 60_000 }))));
  return out;
}

describe("durability: kill -9 and restart on the same data directory", () => {
  it(`loses no acknowledged task or result under load (${ROUNDS} rounds, random kill points)`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const server = await startServer(["--data-dir", tempDataDir(), "--max-results", "100000"]);
      await startWorker(server.grpc, ["--tasks", TASKS, "--concurrency", "200"]);
      const producer = spawnNode("test/fixtures/durable-producer.mjs", [server.grpc, "20000"]);
      const killAt = 1000 + Math.floor(Math.random() * 12_000);
      await eventually(() => (ackedCount(producer.stdout) >= killAt ? true : undefined), `${killAt} acknowledgements`, 60_000);
      await server.stop("SIGKILL");
      // Acceptances already on their way still arrive; then the producer's session breaks.
      await producer.waitForLine(/^(refused|done)/);
      const before = parseProducer(producer.stdout);
      await producer.stop("SIGKILL");

      const again = await restart(server, ["--max-results", "100000"]);
      const client = connect(again);
      const known = new Set((await allTasks(client)).map((t) => t.id));
      const lost = lostAcknowledgements(before.acked.keys(), (id) => known.has(id));
      expect(lost, `round ${round}: acknowledged ids missing after the restart`).toEqual([]);
      // Every acknowledged task completes, with the right result; results seen before the kill are unchanged.
      // (Tasks stored whose acknowledgement the kill cut off complete too: all are waited for.)
      const after = await results(client, known);
      for (const [id, n] of before.acked) expect(after.get(id), `task ${id}`).toBe(n * 2);
      for (const [id, value] of before.results) expect(String(after.get(id)), `result of ${id} seen before the kill`).toBe(value);
      // Exactly once in the result store: each task one id, one final state, one successful attempt.
      const stored = await allTasks(client);
      expect(new Set(stored.map((t) => t.id)).size).toBe(stored.length);
      for (const task of stored) {
        expect(task.state).toBe("succeeded");
        expect(task.attempts.filter((a) => a.outcome === "succeeded")).toHaveLength(1);
      }
      console.log(
        `round ${round}: killed after ${before.acked.size} acknowledged (${before.results.size} results seen); ` +
          `after the restart ${stored.length} tasks stored, all succeeded once, none lost`,
      );
      await again.stop("SIGKILL");
    }
  }, 300_000);

  it("accepts the results of tasks that were running on a worker when the control plane died: nothing runs twice", async () => {
    scratch = mkdtempSync(join(tmpdir(), "fw-exec-"));
    const executions = join(scratch, "executions.log");
    writeFileSync(executions, "");
    const server = await startServer();
    const worker = await startWorker(server.grpc, ["--tasks", TASKS, "--concurrency", "10"], { FW_TEST_EXEC_LOG: executions });
    const client = connect(server);
    const handles = await Promise.all(Array.from({ length: 10 }, (_, n) => client.submit("slow", { ms: 2500, n })));
    await eventually(() => (readFileSync(executions, "utf8").trim().split("\n").filter(Boolean).length === 10 ? true : undefined), "all 10 to start");
    await server.stop("SIGKILL");
    const again = await restart(server);
    // result() calls made before the restart resolve after it (the client reconnects by itself).
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array.from({ length: 10 }, (_, n) => n));
    const runs = readFileSync(executions, "utf8").trim().split("\n");
    if (runs.length !== 10) console.log(again.output(80), worker.output(80));
    expect(runs).toHaveLength(10);
    expect(new Set(runs.map((l) => l.split(" ")[0])).size).toBe(10);
    for (const h of handles) {
      const info = await connect(again).getTask(h.id);
      expect(info.attempts.map((a) => a.outcome)).toEqual(["succeeded"]);
    }
  }, 60_000);

  it("keeps delays, retry backoffs, idempotency keys and result TTLs across a restart", async () => {
    const server = await startServer(["--result-ttl", "6"]);
    await startWorker(server.grpc, ["--tasks", TASKS]);
    const client = connect(server);
    const keyed = await client.submit("double", { n: 2 }, { key: "k-1" });
    expect(await keyed.result()).toBe(4);
    const keyedFinished = (await keyed.status()).finishedAt!.getTime();
    const delayed = await client.submit("double", { n: 1 }, { delayMs: 8000 });
    const flaky = await client.submit("flaky-once", {});
    const backingOff = await eventually(async () => {
      const info = await flaky.status();
      return info.state === "scheduled" ? info : undefined;
    }, "the first attempt to fail and the retry to be scheduled");
    const delayedBefore = await delayed.status();
    // GetTask answers from memory, possibly before the change is on disk: killed then, the worker would
    // report the failure again after the restart and the retry get a later due time. A submission
    // acknowledged now is durable, and batches become durable in order: so is the schedule seen above.
    await client.submit("double", { n: 3 });

    await server.stop("SIGKILL");
    const again = connect(await restart(server, ["--result-ttl", "6"]));
    const delayedAfter = await again.getTask(delayed.id);
    expect(delayedAfter).toMatchObject({ state: "scheduled", scheduledFor: delayedBefore.scheduledFor });
    const flakyAfter = await again.getTask(flaky.id);
    expect(flakyAfter).toMatchObject({ state: "scheduled", scheduledFor: backingOff.scheduledFor });
    expect(flakyAfter.attempts.map((a) => [a.outcome, a.error?.message])).toEqual([["failed", "first attempt fails"]]);
    // The key still points at the first task: same id, deduplicated, not run again.
    const resubmitted = await again.submit("double", { n: 2 }, { key: "k-1" });
    expect([resubmitted.id, resubmitted.deduplicated]).toEqual([keyed.id, true]);
    expect(await again.result(keyed.id)).toBe(4);
    // Due times hold: nothing runs early.
    expect(await again.result(delayed.id)).toBe(2);
    const ran = await again.getTask(delayed.id);
    expect(ran.startedAt!.getTime()).toBeGreaterThanOrEqual(delayedBefore.scheduledFor!.getTime());
    expect(await again.result(flaky.id)).toBe("recovered");
    expect((await again.getTask(flaky.id)).attempts[1]!.dispatchedAt!.getTime()).toBeGreaterThanOrEqual(backingOff.scheduledFor!.getTime());
    // The result TTL counts from when the task finished, across the restart.
    const err = await eventually(() => again.getTask(keyed.id).then(() => undefined, (e: unknown) => e), "the keyed result to expire", 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(keyedFinished + 6000);
    expect(ConnectError.from(err).code).toBe(Code.NotFound);
  }, 60_000);

  it("refuses a second control plane on the same data directory, with one clear line", async () => {
    const server = await startServer();
    const second = spawnCommand("fw-server", ["--port", "0", "--http-port", "0", "--no-discovery", "--data-dir", server.state]);
    const { code } = await second.exited;
    expect(code).not.toBe(0);
    expect(second.stderr.join("\n")).toMatch(/data directory .* is in use by another fw-server/);
    expect(server.running).toBe(true);
  });

  it("fw-server --check and --backup work beside a running control plane", async () => {
    const server = await startServer(["--tasks", TASKS]);
    const client = connect(server);
    await Promise.all(Array.from({ length: 25 }, (_, n) => client.run("double", { n })));
    const check = spawnCommand("fw-server", ["--check", "--data-dir", server.state]);
    expect((await check.exited).code).toBe(0);
    const out = check.stdout.join("\n");
    expect(out).toMatch(/tasks 25 \(succeeded 25\)/);
    expect(out).toMatch(/ok: every record reads back/);
    // A backup taken while it runs starts a control plane with the same tasks.
    scratch = mkdtempSync(join(tmpdir(), "fw-backup-"));
    const backup = spawnCommand("fw-server", ["--backup", join(scratch, "copy"), "--data-dir", server.state]);
    expect((await backup.exited).code).toBe(0);
    const restored = connect(await startServer(["--data-dir", join(scratch, "copy")]));
    expect((await restored.listTasks({ limit: 100 })).total).toBe(25);
  });
});

describe("durability: SIGTERM", () => {
  it("refuses new submissions at once (UNAVAILABLE), keeps what it acknowledged, and a restart resumes the queue", async () => {
    const server = await startServer(["--drain-timeout", "2"]);
    await startWorker(server.grpc, ["--tasks", TASKS, "--concurrency", "4"]);
    const producer = spawnNode("test/fixtures/durable-producer.mjs", [server.grpc, "20000"]);
    await eventually(() => (ackedCount(producer.stdout) >= 3000 ? true : undefined), "3000 acknowledgements", 60_000);
    expect(await server.stop("SIGTERM")).toMatchObject({ code: 0 });
    expect(server.stderr.join("\n")).toMatch(/stopped: \d+ queued, \d+ scheduled, \d+ still running tasks kept in lmdb at \//);
    await producer.waitForLine(/^(refused|done)/);
    const before = parseProducer(producer.stdout);
    expect(before.refused.length).toBeGreaterThan(0);
    expect(before.refused[0]).toMatch(/^Unavailable /);

    const again = connect(await restart(server));
    const after = await results(again, before.acked.keys());
    for (const [id, n] of before.acked) expect(after.get(id)).toBe(n * 2);
  }, 120_000);
});
