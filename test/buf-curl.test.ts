import { describe, expect, it } from "vitest";
import { run, startServer } from "./helpers/processes.js";

const buf = "node_modules/.bin/buf";

describe("any gRPC tool, with no .proto files (reflection)", () => {
  it("lists the services, submits with plain JSON args and reads the result with buf curl", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const base = `http://${server.grpc}`;

    const listed = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", base]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split("\n")).toEqual(expect.arrayContaining([
      "fastworker.v1.TaskService", "fastworker.v1.WorkerService", "fastworker.v1.AdminService", "grpc.health.v1.Health",
    ]));

    const submitted = await run(buf, [
      "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-d", '{"task":"add","args":{"a":1,"b":2}}',
      `${base}/fastworker.v1.TaskService/Submit`,
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id } = JSON.parse(submitted.stdout) as { id: string };

    const waited = await run(buf, [
      "curl", "--protocol", "grpc", "--http2-prior-knowledge",
      "-d", JSON.stringify({ id, timeout: "10s" }),
      `${base}/fastworker.v1.TaskService/WaitTask`,
    ]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).task).toMatchObject({ id, name: "add", state: "TASK_STATE_SUCCEEDED", result: 3, args: { a: 1, b: 2 } });
  });

  it("answers grpc.health.v1 with SERVING", async () => {
    const server = await startServer();
    const health = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}", `http://${server.grpc}/grpc.health.v1.Health/Check`]);
    expect(health.code, health.stderr).toBe(0);
    expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });
  });

  it("serves the same services over Connect on the HTTP port", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    const post = (method: string, body: unknown) =>
      fetch(`${server.http}/fastworker.v1.${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const submitted = await post("TaskService/Submit", { task: "add", args: { a: 2, b: 5 } });
    expect(submitted.status).toBe(200);
    const { id } = (await submitted.json()) as { id: string };
    const waited = await post("TaskService/WaitTask", { id });
    expect(((await waited.json()) as { task: { result: number } }).task.result).toBe(7);
    const stats = await post("AdminService/GetStats", {});
    expect(((await stats.json()) as { stats: { submittedTotal: string } }).stats.submittedTotal).toBe("1");
    const unknown = await post("TaskService/GetTask", { id: "nope" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "not_found" });
  });
});
