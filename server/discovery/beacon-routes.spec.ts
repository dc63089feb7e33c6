import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { beaconRoutes, type Interfaces } from "./beacon-routes.js";

const v4 = (address: string, netmask: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: "IPv4",
  mac: "00:00:00:00:00:00",
  internal,
  cidr: null,
});
const v6 = (address: string): NetworkInterfaceInfo => ({ address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "00:00:00:00:00:00", internal: false, cidr: null, scopeid: 0 });

const machine: Interfaces = {
  lo: [v4("127.0.0.1", "255.0.0.0", true), v6("::1")],
  eth0: [v4("10.77.0.1", "255.255.255.0"), v6("fe80::1")],
  eth1: [v4("192.168.5.20", "255.255.252.0")],
  tun0: [v4("172.16.0.9", "255.255.255.255")],
};

const routes = (host: string, targets: string[] = []) => beaconRoutes({ host, targets, interfaces: machine });

describe("beaconRoutes", () => {
  it("on loopback: 127.255.255.255, announcing the loopback address", () => {
    expect(routes("127.0.0.1")).toEqual([{ target: "127.255.255.255", announce: "127.0.0.1" }]);
    expect(routes("::1")).toEqual([{ target: "127.255.255.255", announce: "::1" }]);
  });

  it("on one address: its subnet's broadcast, announcing it", () => {
    expect(routes("10.77.0.1")).toEqual([{ target: "10.77.0.255", announce: "10.77.0.1" }]);
    expect(routes("192.168.5.20")).toEqual([{ target: "192.168.7.255", announce: "192.168.5.20" }]);
  });

  it("on all addresses: every IPv4 subnet with a broadcast, each announcing this machine's address there, never 0.0.0.0", () => {
    for (const host of ["0.0.0.0", "::"]) {
      expect(routes(host)).toEqual([
        { target: "127.255.255.255", announce: "127.0.0.1" },
        { target: "10.77.0.255", announce: "10.77.0.1" },
        { target: "192.168.7.255", announce: "192.168.5.20" },
      ]);
    }
  });

  it("--beacon-addr: the bound address, or when bound to all, the address on the target's subnet", () => {
    expect(routes("10.77.0.1", ["10.77.0.7"])).toEqual([{ target: "10.77.0.7", announce: "10.77.0.1" }]);
    expect(routes("0.0.0.0", ["127.255.255.255", "10.77.0.255"])).toEqual([
      { target: "127.255.255.255", announce: "127.0.0.1" },
      { target: "10.77.0.255", announce: "10.77.0.1" },
    ]);
    expect(() => routes("0.0.0.0", ["203.0.113.255"])).toThrow(/bind a specific --host/);
    expect(() => routes("127.0.0.1", ["ff02::1"])).toThrow(/not an IPv4 address/);
  });

  it("says what to do when there is no broadcast address to use", () => {
    expect(() => routes("10.9.9.9")).toThrow(/not an address of this machine.*--beacon-addr or --no-discovery/);
    expect(() => routes("172.16.0.9")).toThrow(/has no broadcast address/);
    expect(() => routes("fd00::5")).toThrow(/IPv6 has no broadcast/);
    expect(() => routes("example.org")).toThrow(/not an IP address/);
  });
});
