import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** What protected mode looks at. */
export interface ExposureFacts {
  /** The address both ports bind (--host). */
  host: string;
  /** True when the host is loopback only (see {@link isLoopbackHost}). */
  loopback: boolean;
  /** True when at least one token is configured. */
  credentials: boolean;
  tls: boolean;
  /** --insecure: the operator accepts a tokenless non-loopback bind. */
  insecure: boolean;
}

/** Refuse to start (the reason, one line), or start with these warnings. */
export type ExposureVerdict = { refuse: string } | { refuse?: undefined; warnings: string[] };

/**
 * Protected mode: a control plane that other machines can reach must not
 * be open to all of them by accident. Bound off loopback without a token it
 * refuses to start unless --insecure says the network is trusted; with a
 * token but no TLS it starts, warning that the token and every task cross
 * the network in clear text.
 */
export function checkExposure(facts: ExposureFacts): ExposureVerdict {
  if (facts.loopback) return { warnings: [] };
  const where = `--host ${facts.host} can be reached from other machines`;
  if (!facts.credentials) {
    if (!facts.insecure) {
      return {
        refuse:
          `refusing to start: ${where} and no token is set, so anyone who reaches it could run tasks and read every result. ` +
          "Set --token or --token-file (and scoped ones: --worker-token, --client-token, --read-token), or pass --insecure if this network is trusted",
      };
    }
    return { warnings: [`--insecure: ${where} without any token; anyone who reaches its ports can submit, cancel and read tasks and register workers`] };
  }
  if (!facts.tls) {
    return { warnings: [`${where} but TLS is off: tokens, task args and results cross the network in clear text; add --tls-cert and --tls-key`] };
  }
  return { warnings: [] };
}

/**
 * True when `host` is loopback only: 127.0.0.0/8, ::1, or a name (such as
 * localhost) whose every address is one of those. Wildcards (0.0.0.0, ::)
 * and anything unresolvable count as reachable from elsewhere.
 */
export async function isLoopbackHost(host: string): Promise<boolean> {
  const loopbackIp = (ip: string): boolean => (isIP(ip) === 4 ? ip.startsWith("127.") : ip === "::1" || ip === "::ffff:127.0.0.1");
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare) !== 0) return loopbackIp(bare);
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((a) => loopbackIp(a.address));
  } catch {
    return false;
  }
}
