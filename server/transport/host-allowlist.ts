import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";

/** Options for {@link HostAllowlist}. */
export interface HostAllowlistOptions {
  /** The address the HTTP port is bound to (a wildcard adds this machine's names and addresses). */
  bound: string;
  /** Names added with --allowed-host. */
  extra?: readonly string[];
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The Host header values the HTTP port answers to. A browser on a page from
 * evil.example, whose DNS then points evil.example at 127.0.0.1, sends
 * `Host: evil.example` to a loopback control plane (DNS rebinding): refusing
 * names we are not keeps such pages from driving a tokenless control plane.
 * Allowed: `localhost`, loopback addresses, the bound address, and when
 * bound to a wildcard this machine's host name and interface addresses, plus
 * `--allowed-host` names (a proxy's, a DNS name). Ports are not compared.
 */
export class HostAllowlist {
  private readonly names = new Set<string>();

  constructor(options: HostAllowlistOptions) {
    const add = (name: string): void => {
      this.names.add(normalise(name));
    };
    for (const name of ["localhost", "::1"]) add(name);
    if (WILDCARDS.has(options.bound)) {
      const host = hostname();
      add(host);
      add(host.split(".")[0]!);
      for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) add(i.address.replace(/%.*$/, ""));
    } else {
      add(options.bound);
    }
    for (const name of options.extra ?? []) add(stripPort(name));
  }

  /** True when a request with this Host header may be served. */
  allows(header: string | undefined): boolean {
    if (header === undefined || header.length === 0 || header.length > 300) return false;
    const name = normalise(stripPort(header));
    if (isIP(name) === 4 && name.startsWith("127.")) return true;
    return this.names.has(name);
  }
}

function stripPort(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host : host.slice(1, end);
  }
  const colon = host.lastIndexOf(":");
  // One colon: name:port. More: a bare IPv6 address (not valid in Host, but harmless to compare).
  return colon >= 0 && host.indexOf(":") === colon ? host.slice(0, colon) : host;
}

function normalise(name: string): string {
  return name.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
}
