import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Client } from "../index.js";
import { eventually, spawnNode, startServer, startWorker } from "./helpers/processes.js";
import { allTasks, connect } from "./helpers/clients.js";

// Workers whose stream closed are given up quickly (detach grace); leases stay long enough that a
// busy test machine does not lose healthy workers. The stalled-stream test sets its own lease.
const QUICK_DETACH = ["--heartbeat-interval", "0.2", "--lease-timeout", "10", "--detach-grace", "0.5"];

let client: Client;
let logDir: string | undefined;
afterEach(() => {
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  logDir = undefined;
});

/** Every handler start logged by fault-tasks.mjs, per task id: [pid, attempt][]. */
function starts(dir: string): Map<string, { pid: number; attempt: number }[]> {
  const byTask = new Map<string, { pid: number; attempt: number }[]>();
  for (const file of readdirSync(dir)) {
    const pid = Number(file.replace(".log", ""));
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
      const [what, id, attempt] = line.split(" ");
      if (what !== "start") continue;
      byTask.set(id!, [...(byTask.get(id!) ?? []), { pid, attempt: Number(attempt) }]);
    }
  }
  return byTask;
}

describe("at-least-once delivery with fencing", () => {
  it("survives kill -9 of a worker with 50 tasks in flight: every task succeeds exactly once, only in-flight ones re-run", async () => {
    logDir = mkdtempSync(join(tmpdir(), "fw-kill-"));
    const env = { FW_TEST_LOG: logDir };
    const server = await startServer([...QUICK_DETACH, "--max-results", "100000"]);
    const doomed = await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs", "--concurrency", "50", "--name", "doomed"], env);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs", "--concurrency", "50", "--name", "survivor"], env);
    client = connect(server);

    const n = 2000;
    const handles = await Promise.all(Array.from({ length: n }, () => client.submit("record", { ms: 20 })));
    await eventually(async () => {
      const stats = await client.stats();
      const doomedInfo = (await client.workers()).find((w) => w.name === "doomed");
      return stats.totals.succeeded >= n / 4 && (doomedInfo?.inFlight ?? 0) > 0 ? true : undefined;
    }, "a quarter of the tasks done while the doomed worker holds some");
    await doomed.stop("SIGKILL");

    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results).toHaveLength(n);

    const tasks = await allTasks(client);
    expect(tasks).toHaveLength(n);
    const lost = tasks.filter((t) => t.attempts.some((a) => a.outcome === "lost"));
    for (const t of tasks) {
      expect(t.state).toBe("succeeded");
      expect(t.attempts.filter((a) => a.outcome === "succeeded")).toHaveLength(1);
    }
    // What the handlers actually did, from the processes' own logs.
    const ran = starts(logDir);
    expect(ran.size).toBe(n);
    const ranTwice = [...ran.entries()].filter(([, runs]) => runs.length > 1).map(([id]) => id);
    const lostIds = new Set(lost.map((t) => t.id));
    // Only tasks in flight on the killed worker (its attempt was given up as lost) ran again.
    for (const id of ranTwice) expect(lostIds.has(id), `task ${id} ran twice but was not in flight at the kill`).toBe(true);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThanOrEqual(50);
    for (const runs of ran.values()) expect(runs.length).toBeLessThanOrEqual(2);
    const stats = await client.stats();
    expect(stats.totals.succeeded).toBe(n);
    // Acknowledged attempts are lost when the lease ends; unacknowledged ones are re-queued as soon as the stream closes.
    expect(stats.totals.leaseExpiries).toBeLessThanOrEqual(lost.length);
    console.log(`kill -9 with ${n} tasks (concurrency 50): ${lost.length} attempts were in flight on the killed worker and were given to the survivor; ${ranTwice.length} tasks ran twice (the rest of the in-flight ones had not started their handler or were never received)`);
  });

  it("takes work back from a worker whose dispatch stream stalled while its heartbeats keep arriving", async () => {
    const server = await startServer(["--heartbeat-interval", "0.2", "--lease-timeout", "2", "--detach-grace", "0.5"]);
    client = connect(server);
    const handles = await Promise.all(Array.from({ length: 3 }, () => client.submit("record", { ms: 1 })));
    const zombie = spawnNode("test/fixtures/zombie-worker.mjs", [server.grpc, "record", "3"]);
    {
      await zombie.waitForLine("zombie holding 3");
      const stalledAt = Date.now();
      await zombie.waitForLine("heartbeat accepted");
      // A healthy worker joins; it only gets the tasks once the zombie's lease is given up.
      await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs", "--name", "healthy"]);
      const results = await Promise.all(handles.map((h) => h.result()));
      const reassignedAfter = Date.now() - stalledAt;
      for (const r of results) expect(r).toMatchObject({ attempt: 2 });
      for (const h of handles) {
        const info = await h.status();
        expect(info.attempts.map((a) => [a.workerName, a.outcome])).toEqual([["zombie", "lost"], ["healthy", "succeeded"]]);
        expect(info.attempts[0]!.error?.message).toMatch(/no heartbeat proved its dispatch stream delivers/);
      }
      const zombieInfo = (await client.workers()).find((w) => w.name === "zombie");
      expect(zombieInfo?.state).toBe("lost");
      // Its heartbeats arrived all along; they just proved nothing.
      await zombie.waitForLine("heartbeat refused: 5");
      console.log(`stalled dispatch stream: tasks reassigned ${reassignedAfter} ms after the stall (lease timeout 2 s)`);
    }
  });

  it("hands running tasks back when a draining worker passes its deadline, and exits 0", async () => {
    logDir = mkdtempSync(join(tmpdir(), "fw-drain-"));
    const server = await startServer(QUICK_DETACH);
    const leaving = await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs", "--name", "leaving", "--drain-timeout", "0.3"], { FW_TEST_LOG: logDir });
    client = connect(server);
    // The first attempt would run a minute: it is still running when the drain deadline passes, whatever the load.
    const handle = await client.submit("cooperative", { ms: 100, firstMs: 60_000 });
    await eventually(async () => ((await handle.status()).state === "running" ? true : undefined), "the task to start on the leaving worker");
    await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs", "--name", "staying"]);
    expect(await leaving.stop("SIGTERM")).toMatchObject({ code: 0 });
    expect(await handle.result()).toBe("finished");
    const info = await handle.status();
    expect(info.attempts.map((a) => [a.workerName, a.outcome])).toEqual([["leaving", "released"], ["staying", "succeeded"]]);
    // The handler on the leaving worker saw its signal abort with the shutdown reason.
    const leavingLog = readFileSync(join(logDir, `${leaving.pid}.log`), "utf8");
    expect(leavingLog).toContain(`aborted ${handle.id} 1 WorkerShutdownError same-class\n`);
  });
});
