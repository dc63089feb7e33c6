import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { run, runCli, startServer, startWorker, spawnCommand } from "./helpers/processes.js";

describe("--token guards every RPC on both ports", () => {
  it("refuses callers without the token and serves those with it", async () => {
    const server = await startServer(["--token", "s3cret-0123456789abcdef"]);
    expect(server.grpc).toMatch(/^127\.0\.0\.1:/); // loopback by default

    const anonymous = connect(server);
    const wrong = connect(server, { token: "guess-0123456789abcdef" });
    const good = connect(server, { token: "s3cret-0123456789abcdef" });
    for (const c of [anonymous, wrong]) {
      await expect(c.submit("add", { a: 1, b: 2 })).rejects.toMatchObject({ code: 16, rawMessage: expect.stringContaining("missing or wrong token") });
      await expect(c.stats()).rejects.toMatchObject({ code: 16 });
    }

    // A worker without the token cannot register; with it, it serves.
    const intruder = spawnCommand("fw-worker", ["--server", server.grpc, "--tasks", "test/fixtures/basic-tasks.mjs"]);
    await intruder.waitForLine("refused the token");
    await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--token", "s3cret-0123456789abcdef"]);
    expect(await good.run("add", { a: 1, b: 2 })).toBe(3);

    // The CLI reads FW_TOKEN.
    expect(await runCli(["--server", server.grpc, "stats"])).toMatchObject({ code: 1, stderr: expect.stringContaining("(unauthenticated)") });
    expect((await runCli(["--server", server.grpc, "submit", "add", "--args", '{"a":2,"b":3}', "--wait"], { FW_TOKEN: "s3cret-0123456789abcdef" })).stdout).toBe("5");

    // Connect on the HTTP port.
    const call = (headers: Record<string, string>) =>
      fetch(`${server.http}/fastworker.v1.AdminService/GetStats`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });
    expect((await call({})).status).toBe(401);
    expect((await call({ authorization: "Bearer guess-0123456789abcdef" })).status).toBe(401);
    expect((await call({ authorization: "Bearer s3cret-0123456789abcdef" })).status).toBe(200);

    // Health and reflection too.
    const buf = "node_modules/.bin/buf";
    const health = ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}", `http://${server.grpc}/grpc.health.v1.Health/Check`];
    expect((await run(buf, health)).code).not.toBe(0);
    const authed = await run(buf, [...health, "-H", "authorization: Bearer s3cret-0123456789abcdef", "--reflect-header", "authorization: Bearer s3cret-0123456789abcdef"]);
    expect(authed.code, authed.stderr).toBe(0);
    expect(JSON.parse(authed.stdout)).toEqual({ status: "SERVING" });
  });
});
