import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Client } from "../index.js";
import { connect } from "./helpers/clients.js";
import { httpsRequest } from "./helpers/https.js";
import { makePki } from "./helpers/pki.js";
import { run, runCli, spawnCommand, startServer, startWorker } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";
import { freeUdpPort, randomCluster } from "./helpers/udp.js";

const TASKS = "test/fixtures/basic-tasks.mjs";
const TOKEN = "tls-token-0123456789abcdef";

describe.skipIf(missing("openssl"))("TLS on both ports (certificates made by the openssl commands of docs/security.md)", () => {
  it("serves gRPC and HTTPS; clients, fw and workers with --tls-ca and grpcs:// work; without the CA, or in plaintext, nothing does", async () => {
    const pki = await makePki();
    const server = await startServer(["--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--token", TOKEN]);
    expect(server.grpc).toMatch(/^grpcs:\/\/127\.0\.0\.1:\d+$/);
    expect(server.http).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    // A worker on grpcs:// with the CA runs the tasks (the control plane runs none itself here).
    const worker = await startWorker(server.grpc, ["--tasks", TASKS, "--tls-ca", pki.caCert, "--token", TOKEN]);
    expect(worker.stdout[0]).toContain(`server=${server.grpc} `);
    const client = connect(server, { token: TOKEN, tls: { ca: pki.ca } });
    expect(await client.run("add", { a: 1, b: 2 })).toBe(3);

    // fw: flag or variable.
    expect(await runCli(["--server", server.grpc, "--tls-ca", pki.caCert, "--token", TOKEN, "submit", "add", "--args", '{"a":2,"b":3}', "--wait"])).toMatchObject({ code: 0, stdout: "5" });
    expect(await runCli(["--server", server.grpc, "stats"], { FW_TLS_CA: pki.caCert, FW_TOKEN: TOKEN })).toMatchObject({ code: 0 });

    // Without the CA the certificate is not trusted; a plaintext client gets nowhere; --tls-ca with a plaintext address is refused at once.
    const untrusted = connect(server, { token: TOKEN });
    await expect(untrusted.stats()).rejects.toMatchObject({ code: 14 });
    const plain = connect(server.grpc.replace("grpcs://", ""), { token: TOKEN });
    await expect(plain.stats()).rejects.toMatchObject({ code: 14 });
    expect(await runCli(["--server", server.grpc.replace("grpcs://", ""), "--tls-ca", pki.caCert, "--token", TOKEN, "stats"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^fw: the control plane address 127\.0\.0\.1:\d+ is plaintext, but TLS certificates were given .* write grpcs:\/\//),
    });

    // HTTPS: the dashboard (with its headers), /metrics and a Connect call, trusted through the CA.
    const page = await httpsRequest(`${server.http}/`, { ca: pki.ca });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>fastworker</title>");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    const metrics = await httpsRequest(`${server.http}/metrics`, { ca: pki.ca, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^fastworker_tasks_submitted_total 2$/m);
    const stats = await httpsRequest(`${server.http}/fastworker.v1.AdminService/GetStats`, {
      ca: pki.ca,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: "{}",
    });
    expect(stats.status).toBe(200);
    expect(JSON.parse(stats.body)).toMatchObject({ stats: { workers: 1 } });
    await expect(httpsRequest(`${server.http}/`, { ca: readFileSync(pki.rogueCert) })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    await expect(fetch(server.http.replace("https:", "http:"))).rejects.toThrow();
  });

  it("runs the embedded worker over TLS, and requires client certificates on both ports with --tls-client-ca", async () => {
    const pki = await makePki();
    const server = await startServer(["--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--tls-client-ca", pki.caCert, "--token", TOKEN, "--tasks", TASKS]);
    const tls = { ca: pki.ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) };

    // With a client certificate from the CA: both ports, fw and a worker.
    const client = connect(server, { token: TOKEN, tls });
    expect(await client.run("add", { a: 20, b: 22 })).toBe(42); // run by the embedded worker
    const certFlags = ["--tls-ca", pki.caCert, "--tls-cert", pki.clientCert, "--tls-key", pki.clientKey, "--token", TOKEN];
    expect(await runCli(["--server", server.grpc, ...certFlags, "workers"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/embedded-\d+\s+active/) });
    await startWorker(server.grpc, ["--tasks", TASKS, "--name", "with-cert", ...certFlags]);
    const page = await httpsRequest(`${server.http}/`, tls);
    expect(page.status).toBe(200);

    // Without one, or with one no CA of ours signed: refused in the handshake, on both ports.
    for (const [what, options] of [
      ["no client certificate", { ca: pki.ca }],
      ["a self-signed one", { ca: pki.ca, cert: readFileSync(pki.rogueCert), key: readFileSync(pki.rogueKey) }],
    ] as const) {
      const refused = new Client({ server: server.grpc, token: TOKEN, tls: options });
      try {
        await expect(refused.stats(), what).rejects.toMatchObject({ code: 14 });
      } finally {
        await refused.close();
      }
      await expect(httpsRequest(`${server.http}/`, options), what).rejects.toThrow();
    }
    const noCert = spawnCommand("fw-worker", ["--server", server.grpc, "--tasks", TASKS, "--tls-ca", pki.caCert, "--token", TOKEN]);
    await noCert.waitForLine("cannot reach the control plane");
    await noCert.stop();

    // A server-only certificate cannot be the embedded worker's client certificate: said at start, not by a worker that never connects.
    const serverOnly = await run("bash", ["-euo", "pipefail", "-c", [
      `cd '${pki.dir}'`,
      "printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server-only.ext",
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile server-only.ext -out server-only.crt",
    ].join(" && ")]);
    expect(serverOnly.code, serverOnly.stderr).toBe(0);
    const refused = spawnCommand("fw-server", ["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--tls-cert", `${pki.dir}/server-only.crt`, "--tls-key", pki.serverKey, "--tls-client-ca", pki.caCert, "--token", TOKEN, "--tasks", TASKS]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stdout).toEqual([]);
    expect(refused.stderr).toEqual([expect.stringMatching(/^fw-server: --tasks with --tls-client-ca: the embedded worker presents .*\(no clientAuth/)]);
  });

  it("announces TLS in its beacons, so workers and fw that discover it dial grpcs://", async () => {
    const pki = await makePki();
    const flags = ["--cluster", randomCluster("tls"), "--beacon-port", String(await freeUdpPort())];
    const server = await startServer([...flags, "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--token", TOKEN, "--beacon-interval", "0.25"]);
    const worker = await startWorker(null, ["--tasks", TASKS, ...flags, "--tls-ca", pki.caCert, "--token", TOKEN]);
    expect(worker.stdout[0]).toContain(`server=${server.grpc} `);
    expect(server.grpc).toMatch(/^grpcs:/);
    const fw = await runCli([...flags, "--tls-ca", pki.caCert, "--token", TOKEN, "submit", "add", "--args", '{"a":4,"b":5}', "--wait"]);
    expect(fw).toMatchObject({ code: 0, stdout: "9" });
    expect(fw.stderr).toMatch(/^fw: found control plane grpcs:\/\/127\.0\.0\.1:\d+ \(cluster tls-\w+, version [\w.]+\) by signed beacon/);
  });
});
