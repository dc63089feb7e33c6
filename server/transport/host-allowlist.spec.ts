import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { HostAllowlist } from "./host-allowlist.js";

describe("HostAllowlist", () => {
  it("bound to loopback: answers to localhost and loopback addresses, with or without a port, and nothing else", () => {
    const hosts = new HostAllowlist({ bound: "127.0.0.1" });
    for (const ok of ["localhost", "LOCALHOST:8000", "localhost.", "127.0.0.1:8000", "127.1.2.3", "[::1]:8000"]) expect(hosts.allows(ok), ok).toBe(true);
    for (const bad of ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.evil.example", "", undefined, "x".repeat(400)]) {
      expect(hosts.allows(bad), String(bad)).toBe(false);
    }
  });

  it("adds the bound address, and --allowed-host names", () => {
    const hosts = new HostAllowlist({ bound: "10.1.2.3", extra: ["fw.example.com", "Proxy.Example:443"] });
    expect(hosts.allows("10.1.2.3:8000")).toBe(true);
    expect(hosts.allows("fw.example.com")).toBe(true);
    expect(hosts.allows("proxy.example:8443")).toBe(true);
    expect(hosts.allows("10.1.2.4")).toBe(false);
  });

  it("bound to a wildcard: also this machine's name", () => {
    const hosts = new HostAllowlist({ bound: "0.0.0.0" });
    expect(hosts.allows(`${hostname()}:8000`)).toBe(true);
    expect(hosts.allows("evil.example")).toBe(false);
  });
});
