import type { NetworkInterfaceInfo } from "node:os";
import { isIP, isIPv4 } from "node:net";

/** What os.networkInterfaces() returns. */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Where one beacon goes, and the host it announces (reachable from that network). */
export interface BeaconRoute {
  /** The IPv4 address the datagram is sent to, usually a broadcast address. */
  target: string;
  /** The host put in the beacon's grpc/http addresses: never a wildcard. */
  announce: string;
}

/** Options for {@link beaconRoutes}. */
export interface BeaconRouteOptions {
  /** The address the control plane is bound to (an IP; 0.0.0.0 or :: for all). */
  host: string;
  /** --beacon-addr values; empty means the default for `host`. */
  targets: readonly string[];
  interfaces: Interfaces;
}

const LOOPBACK_BROADCAST = "127.255.255.255";

/**
 * Works out where beacons go and which address each announces:
 * - bound to loopback: 127.255.255.255, announcing the loopback address;
 * - bound to one address: the broadcast address of its subnet, announcing it;
 * - bound to all (0.0.0.0, ::): every IPv4 subnet's broadcast address
 *   (loopback included), each announcing this machine's address on it.
 * With explicit targets, each announces the bound address, or when bound to
 * all, this machine's address on the target's subnet. Throws a message
 * naming the fix when no sensible choice exists.
 */
export function beaconRoutes(options: BeaconRouteOptions): BeaconRoute[] {
  const { host, targets, interfaces } = options;
  const wildcard = host === "0.0.0.0" || host === "::";
  const ipv4 = allIpv4(interfaces);
  if (isIP(host) === 0) throw new Error(`cannot send beacons for host ${host}: it is not an IP address (resolve it first)`);
  for (const target of targets) {
    if (!isIPv4(target)) throw new Error(`--beacon-addr ${target} is not an IPv4 address: beacons are IPv4 broadcasts, e.g. 192.168.1.255`);
  }

  if (targets.length > 0) {
    return targets.map((target) => {
      if (!wildcard) return { target, announce: host };
      const onSubnet = ipv4.find((i) => sameSubnet(i, target));
      if (onSubnet === undefined) {
        throw new Error(
          `cannot tell which address to announce in beacons to ${target} while bound to ${host}: no interface of this machine is on that subnet; bind a specific --host`,
        );
      }
      return { target, announce: onSubnet.address };
    });
  }

  if (wildcard) {
    const routes = new Map<string, BeaconRoute>();
    for (const i of ipv4) {
      const target = broadcastOf(i);
      if (target !== undefined && !routes.has(target)) routes.set(target, { target, announce: i.address });
    }
    return [...routes.values()];
  }
  if (isLoopback(host)) return [{ target: LOOPBACK_BROADCAST, announce: host }];
  if (!isIPv4(host)) {
    throw new Error(`IPv6 has no broadcast: with --host ${host} pass --beacon-addr (an IPv4 broadcast address) or --no-discovery`);
  }
  const own = ipv4.find((i) => i.address === host);
  if (own === undefined) throw new Error(`--host ${host} is not an address of this machine's interfaces, so its broadcast address is unknown: pass --beacon-addr or --no-discovery`);
  const target = broadcastOf(own);
  if (target === undefined) throw new Error(`${host}/${own.netmask} has no broadcast address: pass --beacon-addr or --no-discovery`);
  return [{ target, announce: host }];
}

/** Whether an address is loopback (127.0.0.0/8 or ::1). */
export function isLoopback(host: string): boolean {
  return host === "::1" || (isIPv4(host) && host.startsWith("127."));
}

function allIpv4(interfaces: Interfaces): NetworkInterfaceInfo[] {
  return Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === "IPv4");
}

/** The subnet's broadcast address; undefined for /31 and /32 (point-to-point: no broadcast). */
function broadcastOf(i: NetworkInterfaceInfo): string | undefined {
  const mask = toInt(i.netmask);
  if (mask >>> 0 >= 0xfffffffe) return undefined;
  return toIp(((toInt(i.address) & mask) | ~mask) >>> 0);
}

function sameSubnet(i: NetworkInterfaceInfo, target: string): boolean {
  const mask = toInt(i.netmask);
  return ((toInt(i.address) & mask) >>> 0) === ((toInt(target) & mask) >>> 0);
}

function toInt(ip: string): number {
  return ip.split(".").reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join(".");
}
