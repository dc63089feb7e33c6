import { afterEach, describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { startServer, startWorker } from "./helpers/processes.js";

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

// Messages larger than a few MiB are cut by the sender, so many large args or
// results at once never exceed a transport limit and never wedge a stream.
describe("large payloads in bulk", () => {
  it("dispatches 70 tasks with 1 MiB args to one worker at once (several stream messages)", async () => {
    const server = await startServer(["--max-payload", "2MiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs", "--concurrency", "80"]);
    client = new Client({ server: server.grpc });
    const blob = "y".repeat(1024 * 1024);
    const handles = await Promise.all(Array.from({ length: 70 }, () => client!.submit("measure", { blob })));
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array(70).fill(blob.length));
    expect((await client.stats()).totals.leaseExpiries).toBe(0);
  });

  it("reports 40 results of 1.5 MiB finishing together (several report calls) and delivers them all", async () => {
    const server = await startServer(["--max-payload", "2MiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs", "--concurrency", "64"]);
    client = new Client({ server: server.grpc });
    const bytes = 1.5 * 1024 * 1024;
    const handles = await Promise.all(Array.from({ length: 40 }, () => client!.submit("big", { bytes })));
    const results = (await Promise.all(handles.map((h) => h.result()))) as string[];
    expect(results.every((r) => r.length === bytes)).toBe(true);
  });

  it("fails a result over --max-payload on the worker, which stays in service", async () => {
    const server = await startServer(["--max-payload", "1MiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs"]);
    client = new Client({ server: server.grpc });
    await expect(client.run("big", { bytes: 17 * 1024 * 1024 })).rejects.toMatchObject({
      error: { type: "ResultTooLarge", message: "the result is 17 MiB; the limit is 1 MiB (fw-server --max-payload); return a reference to large data instead" },
    });
    expect(await client.run("big", { bytes: 10 })).toBe("x".repeat(10));
    expect((await client.workers())[0]).toMatchObject({ state: "active", failed: 1, succeeded: 1 });
  });
});
