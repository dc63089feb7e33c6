import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DescMethod } from "@bufbuild/protobuf";
import { AdminService } from "../gen/fastworker/v1/admin_service_pb.js";
import { TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { GrpcConnection } from "../common/transport/grpc-client.js";
import { METHOD_SCOPES } from "../server/transport/method-scopes.js";
import { probeGrpc, probeHttp, type Access } from "./helpers/access-probe.js";
import { connect } from "./helpers/clients.js";
import { run, runCli, spawnCommand, startServer, startWorker, tempDataDir } from "./helpers/processes.js";

const TOKEN = "s3cret-0123456789abcdef";
const buf = "node_modules/.bin/buf";

describe("--token guards every RPC on both ports", () => {
  it("refuses callers without the token and serves those with it; health is open, reflection needs a token", async () => {
    const server = await startServer(["--token", TOKEN]);
    expect(server.grpc).toMatch(/^127\.0\.0\.1:/); // loopback by default

    const anonymous = connect(server);
    const wrong = connect(server, { token: "guess-0123456789abcdef" });
    const good = connect(server, { token: TOKEN });
    for (const c of [anonymous, wrong]) {
      await expect(c.submit("add", { a: 1, b: 2 })).rejects.toMatchObject({ code: 16, rawMessage: expect.stringContaining("missing or wrong token") });
      await expect(c.stats()).rejects.toMatchObject({ code: 16 });
    }

    // A worker without the token cannot register; with it, it serves.
    const intruder = spawnCommand("fw-worker", ["--server", server.grpc, "--tasks", "test/fixtures/basic-tasks.mjs"]);
    await intruder.waitForLine("refused the token");
    await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--token", TOKEN]);
    expect(await good.run("add", { a: 1, b: 2 })).toBe(3);

    // The CLI reads FW_TOKEN.
    expect(await runCli(["--server", server.grpc, "stats"])).toMatchObject({ code: 1, stderr: expect.stringContaining("(unauthenticated)") });
    expect((await runCli(["--server", server.grpc, "submit", "add", "--args", '{"a":2,"b":3}', "--wait"], { FW_TOKEN: TOKEN })).stdout).toBe("5");

    // Connect on the HTTP port.
    const call = (headers: Record<string, string>) =>
      fetch(`${server.http}/fastworker.v1.AdminService/GetStats`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });
    expect((await call({})).status).toBe(401);
    expect((await call({ authorization: "Bearer guess-0123456789abcdef" })).status).toBe(401);
    expect((await call({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);

    // Health answers anyone (load balancers, orchestrators' probes cannot send headers), and says nothing more.
    const health = new GrpcConnection({ address: server.grpc });
    try {
      expect(await health.service(Health).check({})).toMatchObject({ status: 1 });
    } finally {
      health.close();
    }
    // Reflection (which buf curl needs to encode a request) needs a token.
    const healthCurl = ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}", `http://${server.grpc}/grpc.health.v1.Health/Check`];
    const refused = await run(buf, healthCurl);
    expect(refused.code).not.toBe(0);
    const authed = await run(buf, [...healthCurl, "--reflect-header", `authorization: Bearer ${TOKEN}`]);
    expect(authed.code, authed.stderr).toBe(0);
    expect(JSON.parse(authed.stdout)).toEqual({ status: "SERVING" });
  });
});

describe("scoped credentials", () => {
  const tokens = {
    token: "admin-token-0123456789",
    "client-token": "client-token-0123456789",
    "worker-token": "worker-token-0123456789",
    "read-token": "read-token-0123456789",
  };
  const scopesOf: Record<keyof typeof tokens, string[]> = {
    token: ["worker", "client", "read"],
    "client-token": ["client", "read"],
    "worker-token": ["worker"],
    "read-token": ["read"],
  };
  const methods: DescMethod[] = [TaskService, WorkerService, AdminService, Health].flatMap((s) => s.methods);
  const expected = (credential: keyof typeof tokens | undefined, method: DescMethod): Access => {
    const requirement = METHOD_SCOPES[`/${method.parent.typeName}/${method.name}`]!;
    if (requirement === "public") return "allowed";
    if (credential === undefined) return "unauthenticated";
    return scopesOf[credential].includes(requirement) ? "allowed" : "permission_denied";
  };
  const flags = Object.entries(tokens).flatMap(([flag, value]) => [`--${flag}`, value]);

  it("allow or refuse each RPC for each credential, the same on the gRPC and the HTTP port, and /metrics", async () => {
    const server = await startServer(flags);
    const seen: string[] = [];
    const want: string[] = [];
    for (const credential of [...(Object.keys(tokens) as (keyof typeof tokens)[]), undefined]) {
      const token = credential === undefined ? undefined : tokens[credential];
      for (const method of methods) {
        const e = expected(credential, method);
        const name = `${credential ?? "no token"} ${method.parent.name}/${method.name}`;
        want.push(`${name} grpc=${e}`);
        seen.push(`${name} grpc=${await probeGrpc(server.grpc, token, method)}`);
        // The HTTP port serves fastworker's services (health is gRPC only).
        if (method.parent.typeName === Health.typeName) continue;
        // The HTTP port is HTTP/1.1: bidirectional streams (Session, ReportResults) are served on the gRPC port only.
        want.push(`${name} http=${method.methodKind === "bidi_streaming" ? "http 505" : e}`);
        seen.push(`${name} http=${await probeHttp(server.http, token, method)}`);
      }
      const metrics = await fetch(`${server.http}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      seen.push(`${credential ?? "no token"} /metrics ${metrics.status}`);
      want.push(`${credential ?? "no token"} /metrics ${credential === undefined ? 401 : credential === "worker-token" ? 403 : 200}`);
    }
    expect(seen).toEqual(want);
  }, 120_000);

  it("work through the commands: a worker with the worker token, fw with the client and read tokens, each refused elsewhere with a line saying why", async () => {
    const server = await startServer([...flags, "--tasks", "test/fixtures/basic-tasks.mjs"]);
    const fw = (token: string, ...args: string[]) => runCli(["--server", server.grpc, "--token", token, ...args]);
    // The embedded worker registered with --worker-token.
    expect(await fw(tokens["client-token"], "submit", "add", "--args", '{"a":1,"b":2}', "--wait")).toMatchObject({ code: 0, stdout: "3" });
    const id = (await fw(tokens["client-token"], "submit", "add", "--args", '{"a":2,"b":2}')).stdout;
    // Read-only: status, tasks, workers, stats; not submit, cancel or retry.
    expect(await fw(tokens["read-token"], "result", id, "--timeout", "10")).toMatchObject({ code: 0 });
    for (const args of [["tasks"], ["workers"], ["stats"], ["status", id]]) expect((await fw(tokens["read-token"], ...args)).code, args.join(" ")).toBe(0);
    for (const args of [["submit", "add"], ["cancel", id], ["retry", id]]) {
      const refused = await fw(tokens["read-token"], ...args);
      expect(refused.code, args.join(" ")).toBe(1);
      expect(refused.stderr).toMatch(/^fw: this token is the control plane's --read-token, which may not call fastworker\.v1\.TaskService\/\w+: that needs the client scope, which --token or --client-token grants \(permission_denied\)$/);
    }
    // The worker token reads nothing; the client token cannot be a worker.
    expect((await fw(tokens["worker-token"], "stats")).stderr).toMatch(/--worker-token, which may not call fastworker\.v1\.AdminService\/GetStats: that needs the read scope/);
    const impostor = spawnCommand("fw-worker", ["--server", server.grpc, "--tasks", "test/fixtures/basic-tasks.mjs", "--token", tokens["client-token"]]);
    const line = await impostor.waitForLine("refused this worker");
    expect(line).toMatch(/--client-token, which may not call fastworker\.v1\.WorkerService\/RegisterWorker: that needs the worker scope, which --token or --worker-token grants/);
    await impostor.stop();

    // Refusals are audit lines: who (credential), what, from where; the token itself is never logged.
    const audit = server.stderr.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.audit === true);
    expect(audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: "auth-failure", reason: "scope", credential: "read-token", method: "/fastworker.v1.TaskService/Session", peer: expect.stringMatching(/127\.0\.0\.1/) }),
      expect.objectContaining({ msg: "worker registered", credential: "worker-token", worker: expect.stringMatching(/^embedded-/), peer: expect.stringMatching(/127\.0\.0\.1/) }),
    ]));
    for (const value of Object.values(tokens)) expect(server.stderr.join("\n")).not.toContain(value);
  });

  it("a flood of refused calls logs a burst, then one line counting the rest", async () => {
    const server = await startServer(["--token", TOKEN]);
    const wrong = { "content-type": "application/json", authorization: "Bearer wrong-0123456789abcdef" };
    for (let i = 0; i < 200; i++) {
      await fetch(`${server.http}/fastworker.v1.AdminService/GetStats`, { method: "POST", headers: wrong, body: "{}" });
    }
    const failures = server.stderr.filter((l) => l.includes('"kind":"auth-failure"'));
    expect(failures.length).toBe(20);
    expect(JSON.parse(failures[0]!)).toMatchObject({ audit: true, level: 40, reason: "wrong token", method: "/fastworker.v1.AdminService/GetStats" });
  });
});

describe("tokens are never empty or short, and can come from a file", () => {
  it("refuses an empty or short token at start, on every command, with one line", async () => {
    for (const [args, env] of [[["--token", ""], {}], [["--token", "s3cret"], {}], [[], { FW_TOKEN: "" }], [["--read-token", "short"], {}]] as const) {
      const server = spawnCommand("fw-server", ["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", ...args], env);
      const { code } = await server.exited;
      expect(code, JSON.stringify(args)).toBe(1);
      expect(server.stderr, JSON.stringify(args)).toEqual([expect.stringMatching(/^fw-server: --(read-)?token is (empty; an empty token does not turn authentication off|\d characters; use at least 16)/)]);
    }
    const fw = await runCli(["--server", "127.0.0.1:1", "--token", "s3cret", "stats"]);
    expect(fw).toMatchObject({ code: 2, stderr: "fw: --token is 6 characters; use at least 16, e.g. from: openssl rand -hex 16" });
    const worker = spawnCommand("fw-worker", ["--server", "127.0.0.1:1", "--tasks", "test/fixtures/basic-tasks.mjs", "--token", ""]);
    expect((await worker.exited).code).toBe(1);
    expect(worker.stderr).toEqual([expect.stringMatching(/^fw-worker: --token is empty/)]);
  });

  it("--token-file keeps the token off the command line, for fw-server, fw-worker and fw", async () => {
    const dir = tempDataDir();
    const file = join(dir, "token");
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const server = await startServer(["--token-file", file]);
    expect(readFileSync(`/proc/${server.pid}/cmdline`, "utf8")).not.toContain(TOKEN);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/basic-tasks.mjs", "--token-file", file]);
    expect(await runCli(["--server", server.grpc, "--token-file", file, "submit", "add", "--args", '{"a":1,"b":1}', "--wait"])).toMatchObject({ code: 0, stdout: "2" });
    expect(await runCli(["--server", server.grpc, "submit", "add", "--args", '{"a":1,"b":1}', "--wait"], { FW_TOKEN_FILE: file })).toMatchObject({ code: 0, stdout: "2" });
    // The file and the flag together are a mistake, not a choice.
    expect(await runCli(["--server", server.grpc, "--token-file", file, "--token", TOKEN, "stats"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--token and --token-file .* are both set; use one/) });
    const missing = await runCli(["--server", server.grpc, "--token-file", join(dir, "nope"), "stats"]);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/^fw: --token-file: cannot read .*nope/) });
  });
});
