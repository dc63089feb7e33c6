import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { startServer } from "./helpers/processes.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the Host header the test chooses (fetch does not let it be set). */
function send(base: string, path: string, options: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: options.method ?? "GET", headers: { ...(options.host ? { host: options.host } : {}), ...options.headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const rpc = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
const STATS = "/fastworker.v1.AdminService/GetStats";

describe("the HTTP port answers only to its own names (DNS rebinding)", () => {
  it("refuses a foreign Host with 421 on the dashboard, RPCs and /metrics; serves localhost, loopback addresses and --allowed-host names", async () => {
    // Tokenless on loopback: exactly what a rebinding page would drive.
    const server = await startServer(["--allowed-host", "fw.example.com"]);
    const port = new URL(server.http).port;
    for (const path of ["/", "/metrics"]) {
      const refused = await send(server.http, path, { host: `evil.example:${port}` });
      expect(refused.status, path).toBe(421);
      expect(refused.body).toMatch(/does not answer to Host "evil\.example:\d+", a guard against DNS rebinding.*--allowed-host NAME/);
    }
    expect((await send(server.http, STATS, { ...rpc, host: "evil.example" })).status).toBe(421);
    expect((await send(server.http, STATS, { ...rpc, host: "127.0.0.1.evil.example" })).status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "127.0.0.1", `[::1]:${port}`, `fw.example.com:${port}`, "FW.EXAMPLE.COM"]) {
      const served = await send(server.http, STATS, { ...rpc, host });
      expect(served.status, host).toBe(200);
    }
  });
});

describe("security headers and CORS", () => {
  it("sends CSP, frame, referrer, sniffing and resource-policy headers on every answer, and no CORS by default", async () => {
    const server = await startServer();
    for (const [path, init] of [["/", {}], ["/metrics", {}], [STATS, rpc]] as const) {
      const answer = await send(server.http, path, init);
      expect(answer.status, path).toBe(200);
      expect(answer.headers, path).toMatchObject({
        "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "cross-origin-resource-policy": "same-origin",
      });
    }
    const origin = "https://app.example.com";
    const preflight = await send(server.http, STATS, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect(preflight.status).not.toBe(204);
    const simple = await send(server.http, STATS, { ...rpc, headers: { ...rpc.headers, origin } });
    expect(simple.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("with --cors-origin, answers that origin's preflights and calls, and refuses other origins", async () => {
    const origin = "https://app.example.com";
    const server = await startServer(["--cors-origin", origin, "--cors-origin", "http://localhost:5173"]);
    const ask = (o: string) => send(server.http, STATS, { method: "OPTIONS", headers: { origin: o, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization,connect-protocol-version" } });
    const preflight = await ask(origin);
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(origin);
    expect(String(preflight.headers["access-control-allow-headers"]).toLowerCase()).toMatch(/authorization/);
    expect(String(preflight.headers["access-control-allow-headers"]).toLowerCase()).toMatch(/connect-protocol-version/);
    expect(String(preflight.headers["access-control-allow-methods"])).toMatch(/POST/);
    const call = await send(server.http, STATS, { ...rpc, headers: { ...rpc.headers, origin } });
    expect(call.status).toBe(200);
    expect(call.headers["access-control-allow-origin"]).toBe(origin);
    expect(call.headers.vary).toMatch(/Origin/);
    expect((await ask("http://localhost:5173")).headers["access-control-allow-origin"]).toBe("http://localhost:5173");

    const other = await ask("https://evil.example");
    expect(other.status).toBe(403);
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const otherCall = await send(server.http, STATS, { ...rpc, headers: { ...rpc.headers, origin: "https://evil.example" } });
    expect(otherCall.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
