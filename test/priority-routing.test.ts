import { describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { eventually, startServer, startWorker } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

interface Order {
  n: number;
  tag: string | number | null;
  pid: number;
}

let client: Client;

describe("priorities and routing", () => {
  it("dispatches a critical task submitted after 100 queued normal tasks next, then the rest FIFO", async () => {
    const server = await startServer();
    client = connect(server);
    const normal = [];
    for (let i = 0; i < 100; i++) normal.push(await client.submit("order", { tag: i }));
    const critical = await client.submit("order", { tag: "critical" }, { priority: "critical" });
    // One worker, one task at a time: execution order is dispatch order.
    await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--concurrency", "1"]);
    expect(((await critical.result()) as Order).n).toBe(1);
    const ranks = await Promise.all(normal.map(async (h) => ((await h.result()) as Order).n));
    expect(ranks).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
  });

  it("orders the four priorities strictly: critical, high, normal, low", async () => {
    const server = await startServer();
    client = connect(server);
    const submitted = [];
    for (const priority of ["low", "normal", "high", "critical", "low", "high"] as const) {
      submitted.push({ priority, handle: await client.submit("order", { tag: priority }, { priority }) });
    }
    await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--concurrency", "1"]);
    const ran = await Promise.all(submitted.map(async ({ priority, handle }) => ({ priority, n: ((await handle.result()) as Order).n })));
    expect(ran.sort((a, b) => a.n - b.n).map((r) => r.priority)).toEqual(["critical", "high", "high", "normal", "low", "low"]);
  });

  it("spreads work over two workers", async () => {
    const server = await startServer();
    const workers = await Promise.all([
      startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--concurrency", "2"]),
      startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--concurrency", "2"]),
    ]);
    client = connect(server);
    const handles = await Promise.all(Array.from({ length: 20 }, () => client.submit("whoami", { ms: 20 })));
    const pids = (await Promise.all(handles.map((h) => h.result()))).map((r) => (r as { pid: number }).pid);
    for (const worker of workers) expect(pids.filter((p) => p === worker.pid).length).toBeGreaterThan(0);
    const listed = await client.workers();
    expect(listed.map((w) => w.succeeded).reduce((a, b) => a + b, 0)).toBe(20);
  });

  it("sends a task only to workers that registered its name; unserved tasks wait and say why", async () => {
    const server = await startServer();
    const alpha = await startWorker(server.grpc, ["--tasks", "test/fixtures/alpha-tasks.mjs"]);
    const beta = await startWorker(server.grpc, ["--tasks", "test/fixtures/beta-tasks.mjs"]);
    client = connect(server);
    const handles = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.submit(i % 2 === 0 ? "alpha" : "beta", {})),
    );
    const results = (await Promise.all(handles.map((h) => h.result()))) as { served: string; pid: number }[];
    for (const r of results) expect(r.pid).toBe(r.served === "alpha" ? alpha.pid : beta.pid);

    const gamma = await client.submit("gamma", { n: 4 });
    const waiting = await client.getTask(gamma.id);
    expect(waiting.state).toBe("queued");
    expect(waiting.statusMessage).toBe('no connected worker serves "gamma"; it stays queued until one does');
    await startWorker(server.grpc, ["--tasks", "test/fixtures/gamma-tasks.mjs"]);
    expect(await gamma.result()).toBe(40);
  });
});

describe("result retention", () => {
  it("answers NOT_FOUND once a result's TTL has passed", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs", "--result-ttl", "1"]);
    client = connect(server);
    const handle = await client.submit("add", { a: 2, b: 2 });
    expect(await handle.result()).toBe(4);
    await eventually(
      () => client.getTask(handle.id).then(() => undefined, (err: { code?: number }) => (err.code === 5 ? true : undefined)),
      "the result to expire",
    );
    await expect(client.result(handle.id)).rejects.toMatchObject({ code: 5 });
  });

  it("keeps at most --max-results results, dropping the oldest", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs", "--max-results", "3"]);
    client = connect(server);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const handle = await client.submit("echo", i);
      await handle.result();
      ids.push(handle.id);
    }
    const kept = async (id: string) => client.getTask(id).then(() => true, () => false);
    await eventually(async () => ((await kept(ids[2]!)) ? undefined : true), "the oldest results to be dropped");
    expect(await Promise.all(ids.map(kept))).toEqual([false, false, false, true, true, true]);
  });
});
