import { describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { startServer, startWorker } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

let client: Client;

// Messages larger than a few MiB are cut by the sender, so many large args or
// results at once never exceed a transport limit and never wedge a stream.
describe("large payloads in bulk", () => {
  it("dispatches 70 tasks with 1 MiB args to one worker at once (several stream messages)", async () => {
    const server = await startServer(["--max-payload", "2MiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs", "--concurrency", "80"]);
    client = connect(server);
    const blob = "y".repeat(1024 * 1024);
    const handles = await Promise.all(Array.from({ length: 70 }, () => client.submit("measure", { blob })));
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array(70).fill(blob.length));
    expect((await client.stats()).totals.leaseExpiries).toBe(0);
  });

  it("reports 40 results of 1.5 MiB finishing together (several report calls) and delivers them all", async () => {
    const server = await startServer(["--max-payload", "2MiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs", "--concurrency", "64"]);
    client = connect(server);
    const bytes = 1.5 * 1024 * 1024;
    const handles = await Promise.all(Array.from({ length: 40 }, () => client.submit("big", { bytes })));
    const results = (await Promise.all(handles.map((h) => h.result()))) as string[];
    expect(results.every((r) => r.length === bytes)).toBe(true);
  });

  it("fails a result over --max-payload on the worker, which stays in service", async () => {
    const server = await startServer(["--max-payload", "1MiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs"]);
    client = connect(server);
    await expect(client.run("big", { bytes: 17 * 1024 * 1024 })).rejects.toMatchObject({
      error: { type: "ResultTooLarge", message: "the result is 17,825,794 bytes (17 MiB); the limit is 1,048,576 bytes (1 MiB) (fw-server --max-payload); return a reference to large data instead" },
    });
    expect(await client.run("big", { bytes: 10 })).toBe("x".repeat(10));
    expect((await client.workers())[0]).toMatchObject({ state: "active", failed: 1, succeeded: 1 });
  });

  it("measures results in bytes: 3-byte characters under the limit in length but over it in bytes fail", async () => {
    const server = await startServer(["--max-payload", "1KiB"]);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/payload-tasks.mjs"]);
    client = connect(server);
    // 500 characters, 1,502 bytes of JSON.
    await expect(client.run("big-euros", { chars: 500 })).rejects.toMatchObject({
      error: { type: "ResultTooLarge", message: expect.stringContaining("the result is 1,502 bytes (1.47 KiB); the limit is 1,024 bytes (1 KiB)") },
    });
    expect(await client.run("big-euros", { chars: 300 })).toBe("€".repeat(300));
  });

  it("counts metadata when it cuts messages: 2,000 submissions with 15 KiB of metadata each are all accepted", async () => {
    const server = await startServer();
    client = connect(server);
    // 30 MB in all: one message would pass the control plane's 16 MiB receive limit.
    const metadata = { note: "m".repeat(15 * 1024) };
    const handles = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.submit("nobody-serves-this", { i }, { metadata })));
    expect(new Set(handles.map((h) => h.id)).size).toBe(2000);
  });
});
