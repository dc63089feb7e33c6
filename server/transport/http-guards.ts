import { cors } from "@connectrpc/connect";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HostAllowlist } from "./host-allowlist.js";

/** Options for {@link httpGuards}. */
export interface HttpGuardOptions {
  /** Host header values served; others get 421. */
  hosts: HostAllowlist;
  /** Origins allowed to call cross-origin (--cors-origin); none: no CORS at all. */
  corsOrigins?: readonly string[];
}

/**
 * Headers on every answer of the HTTP port. The dashboard loads only its
 * own files (its icon is a data: URL) and talks only to its own origin;
 * nobody may frame it (clickjacking); no URL leaks in a Referer; nothing is
 * sniffed into another type; no other site may embed the responses.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "same-origin",
};

const ALLOW_HEADERS = [...cors.allowedHeaders, "Authorization"].join(", ");
const EXPOSE_HEADERS = cors.exposedHeaders.join(", ");

/** Throws for an --cors-origin that is not an origin (scheme://host[:port], nothing more). */
export function validateCorsOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(`--cors-origin ${JSON.stringify(origin)} is not an origin; write it as the browser sends it, e.g. https://app.example.com`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin !== origin) {
    throw new Error(`--cors-origin ${JSON.stringify(origin)} is not an origin; write it as the browser sends it, e.g. https://app.example.com (scheme, host, port if not the default; no path, no "*")`);
  }
  return origin;
}

/**
 * The checks every request on the HTTP port passes before anything else:
 * the Host allowlist (DNS rebinding), the security headers, and CORS only
 * for the origins --cors-origin names. Returns true when it answered the
 * request itself (a refusal, or a CORS preflight).
 */
export function httpGuards(options: HttpGuardOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const origins = new Set(options.corsOrigins ?? []);
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const host = req.headers.host;
    if (!options.hosts.allows(host)) {
      const shown = host === undefined ? "(none)" : JSON.stringify(host.slice(0, 100));
      res.writeHead(421, { "content-type": "text/plain; charset=utf-8" });
      res.end(
        `421 Misdirected Request: this control plane does not answer to Host ${shown}, a guard against DNS rebinding. ` +
          "If that is its name (a DNS name, a proxy), start fw-server with --allowed-host NAME.\n",
      );
      return true;
    }
    const origin = req.headers.origin;
    if (origin === undefined || origins.size === 0) return false;
    const allowed = origins.has(origin);
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (preflight) {
      if (!allowed) {
        res.writeHead(403, { "content-type": "text/plain; charset=utf-8", vary: "Origin" });
        res.end("403 Forbidden: this origin may not call the control plane (see fw-server --cors-origin)\n");
        return true;
      }
      res.writeHead(204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": cors.allowedMethods.join(", "),
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": "7200",
        vary: "Origin",
      });
      res.end();
      return true;
    }
    res.setHeader("vary", "Origin");
    if (allowed) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", EXPOSE_HEADERS);
    }
    return false;
  };
}
