import { describe, expect, it } from "vitest";
import { checkExposure, isLoopbackHost } from "./protected-mode.js";

describe("protected mode", () => {
  const facts = { host: "0.0.0.0", loopback: false, credentials: false, tls: false, insecure: false };

  it("refuses a non-loopback bind without a token, saying how to proceed", () => {
    const verdict = checkExposure(facts);
    expect(verdict.refuse).toMatch(/^refusing to start: --host 0\.0\.0\.0 can be reached from other machines and no token is set.*--token.*--insecure/);
  });

  it("starts with a warning: tokenless with --insecure; a token without TLS; silent with both, or on loopback", () => {
    expect(checkExposure({ ...facts, insecure: true })).toEqual({ warnings: [expect.stringMatching(/^--insecure: /)] });
    expect(checkExposure({ ...facts, credentials: true })).toEqual({ warnings: [expect.stringMatching(/TLS is off: tokens, task args and results cross the network in clear text/)] });
    expect(checkExposure({ ...facts, credentials: true, tls: true })).toEqual({ warnings: [] });
    expect(checkExposure({ ...facts, host: "127.0.0.1", loopback: true })).toEqual({ warnings: [] });
  });

  it("knows loopback addresses and names from the rest", async () => {
    for (const host of ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"]) expect(await isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "fe80::1"]) expect(await isLoopbackHost(host), host).toBe(false);
  });
});
