import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";

/**
 * A private network of "hosts" made of Linux network namespaces: each host
 * namespace has loopback and one veth (eth0) whose peer sits on a bridge in
 * a separate switch namespace. Nothing is created in the test machine's own
 * namespace, so no traffic can leave: addresses, routes and broadcasts exist
 * only inside these namespaces. destroy() deletes them all, which also
 * deletes their veths and the bridge.
 */
export interface PrivateLan {
  /** One entry per host: its namespace (for `ip netns exec`) and its address. */
  hosts: { ns: string; address: string }[];
  /** The subnet's broadcast address, e.g. 10.77.42.255. */
  broadcast: string;
  /** Deletes every namespace made; safe to call twice. Returns the names that were still there. */
  destroy(): string[];
}

const ip = (...args: string[]): string => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Why private networks cannot be made here (not root, no `ip`, namespaces refused), or undefined when they can. */
export function privateLanUnavailable(): string | undefined {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  try {
    ip("-V");
  } catch {
    return "the `ip` command (iproute2) is not installed: apt-get install iproute2";
  }
  const probe = `fwd-probe-${randomBytes(3).toString("hex")}`;
  try {
    ip("netns", "add", probe);
    ip("-n", probe, "link", "add", "br0", "type", "bridge");
    ip("-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
  } catch (err) {
    return `cannot create network namespaces, bridges or veth pairs here: ${String((err as { stderr?: string }).stderr ?? err).trim()}`;
  } finally {
    try {
      ip("netns", "del", probe);
    } catch {
      // the probe was never created: nothing to delete
    }
  }
  return undefined;
}

/** Creates a private network of `hostCount` hosts on 10.77.N.0/24 (N random), joined by a bridge. */
export function createPrivateLan(hostCount: number): PrivateLan {
  const id = randomBytes(3).toString("hex");
  const subnet = `10.77.${randomInt(0, 256)}`;
  const sw = `fwd-${id}-sw`;
  const made: string[] = [];
  const destroy = (): string[] => {
    const present = new Set(ip("netns", "list").split("\n").map((line) => line.split(" ")[0]));
    const left = made.filter((ns) => present.has(ns));
    for (const ns of left) ip("netns", "del", ns);
    made.length = 0;
    return left;
  };
  try {
    ip("netns", "add", sw);
    made.push(sw);
    ip("-n", sw, "link", "add", "br0", "type", "bridge");
    ip("-n", sw, "link", "set", "br0", "up");
    const hosts = Array.from({ length: hostCount }, (_, i) => {
      const ns = `fwd-${id}-h${i + 1}`;
      const address = `${subnet}.${i + 1}`;
      ip("netns", "add", ns);
      made.push(ns);
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", `p${i + 1}`, "netns", sw);
      ip("-n", ns, "addr", "add", `${address}/24`, "brd", "+", "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
      ip("-n", sw, "link", "set", `p${i + 1}`, "master", "br0");
      ip("-n", sw, "link", "set", `p${i + 1}`, "up");
      return { ns, address };
    });
    return { hosts, broadcast: `${subnet}.255`, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** Names of namespaces this helper made that still exist (a teardown check). */
export function leftoverNamespaces(lan: PrivateLan): string[] {
  const present = new Set(ip("netns", "list").split("\n").map((line) => line.split(" ")[0]));
  return [...lan.hosts.map((h) => h.ns), lan.hosts[0]!.ns.replace(/-h1$/, "-sw")].filter((ns) => present.has(ns));
}
