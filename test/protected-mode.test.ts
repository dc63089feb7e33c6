import { describe, expect, it } from "vitest";
import { spawnCommand, startServer } from "./helpers/processes.js";

// Binding off loopback happens here only with ephemeral ports, no beacons to anywhere but
// 127.255.255.255, and for the moment it takes to read the warning.

const TOKEN = "protected-0123456789abcdef";

describe("protected mode", () => {
  it("refuses to start bound off loopback without a token, in one line saying why and how to proceed; nothing listens", async () => {
    for (const [args, env] of [[["--host", "0.0.0.0"], {}], [[], { FW_HOST: "0.0.0.0" }]] as const) {
      const server = spawnCommand("fw-server", ["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", ...args], env);
      const { code } = await server.exited;
      expect(code).toBe(1);
      expect(server.stdout).toEqual([]);
      expect(server.stderr).toEqual([
        "fw-server: refusing to start: --host 0.0.0.0 can be reached from other machines and no token is set, so anyone who reaches it could run tasks and read every result. " +
          "Set --token or --token-file (and scoped ones: --worker-token, --client-token, --read-token), or pass --insecure if this network is trusted",
      ]);
    }
  });

  it("starts with --insecure, and with a token but no TLS, warning at every start", async () => {
    const insecure = await startServer(["--host", "0.0.0.0", "--insecure", "--in-memory"]);
    expect(JSON.parse(await insecure.waitForLine("--insecure: "))).toMatchObject({ level: 40, msg: expect.stringMatching(/without any token; anyone who reaches its ports can submit/) });
    await insecure.stop();
    const tokened = await startServer(["--host", "0.0.0.0", "--token", TOKEN, "--in-memory"]);
    expect(JSON.parse(await tokened.waitForLine("TLS is off"))).toMatchObject({ level: 40, msg: expect.stringMatching(/tokens, task args and results cross the network in clear text; add --tls-cert and --tls-key/) });
    await tokened.stop();
    // On loopback, no warning at all.
    const local = await startServer(["--in-memory"]);
    expect(local.stderr.filter((l) => JSON.parse(l).level >= 40)).toEqual([]);
  });

  it("refuses TLS and CORS settings it cannot honour, with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["--tls-cert", "package.json"], /^fw-server: --tls-cert and --tls-key go together; --tls-key is missing$/],
      [["--tls-cert", "package.json", "--tls-key", "package.json"], /^fw-server: --tls-cert is not a PEM certificate/],
      [["--tls-client-ca", "package.json"], /^fw-server: --tls-client-ca needs --tls-cert and --tls-key/],
      [["--tls-cert", "no-such-file", "--tls-key", "package.json"], /^fw-server: --tls-cert: cannot read no-such-file/],
      [["--cors-origin", "*"], /^fw-server: --cors-origin "\*" is not an origin/],
      [["--cors-origin", "https://app.example.com/path"], /^fw-server: --cors-origin "https:\/\/app\.example\.com\/path" is not an origin/],
      [["--tasks", "test/fixtures/basic-tasks.mjs", "--read-token", TOKEN], /^fw-server: --tasks runs an embedded worker, which needs --worker-token or --token/],
    ];
    for (const [args, message] of cases) {
      const server = spawnCommand("fw-server", ["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", ...args]);
      expect((await server.exited).code, args.join(" ")).toBe(1);
      expect(server.stderr, args.join(" ")).toEqual([expect.stringMatching(message)]);
    }
  });
});
