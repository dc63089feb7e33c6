import { createReadStream, statSync, type Stats } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

/** The precompressed copies `scripts/build-dashboard.mjs` writes next to each file, in the order preferred. */
const ENCODINGS = [
  { coding: "br", suffix: ".br" },
  { coding: "gzip", suffix: ".gz" },
] as const;

/** One representation of a file: the file itself, or a precompressed copy. */
interface Representation {
  path: string;
  stats: Stats;
  coding: string | undefined;
}

/**
 * Serves the built dashboard from `root`: GET and HEAD only, no directory
 * listings, no paths outside root; unknown paths get index.html (the page
 * routes itself). The files hold no data: everything the page shows comes
 * through Connect calls, which the token guards.
 *
 * Each file goes out brotli- or gzip-compressed when the browser accepts it
 * and the build wrote the copy (`.br`, `.gz`), else as it is. Hashed assets
 * (`/assets/main-HASH.js`) may be cached for a year; everything else is
 * `no-cache`, revalidated by ETag (304 when unchanged). The ETag is the
 * size and mtime of what is sent, plus its coding, so each representation
 * has its own.
 */
export function staticFiles(root: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let path: string;
    try {
      path = requestPath(req.url ?? "/");
    } catch {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("malformed URL\n");
      return; // a malformed path is the client's mistake, answered above
    }
    let file = normalize(join(root, path));
    if (isTraversal(path) || (!file.startsWith(root + sep) && file !== root)) {
      res.writeHead(404).end();
      return;
    }
    let stats = fileStats(file);
    const found = stats !== undefined;
    if (!found) stats = fileStats((file = join(root, "index.html")));
    if (stats === undefined) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("The dashboard is not built. Run `npm run build` in the fastworker package.\n");
      return;
    }
    const sent = representation(file, stats, req.headers["accept-encoding"]);
    const etag = `"${sent.stats.size.toString(36)}-${Math.trunc(sent.stats.mtimeMs).toString(36)}${sent.coding ? `-${sent.coding}` : ""}"`;
    const headers: Record<string, string | number> = {
      "cache-control": found && path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      etag,
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
    };
    if (matches(req.headers["if-none-match"], etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    headers["content-type"] = TYPES[extname(file)] ?? "application/octet-stream";
    headers["content-length"] = sent.stats.size;
    if (sent.coding) headers["content-encoding"] = sent.coding;
    res.writeHead(200, headers);
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(sent.path)
      .on("error", (err) => res.destroy(err))
      .pipe(res);
  };
}

/** The decoded path of a request target, as sent (dot segments not resolved: they are refused). */
function requestPath(url: string): string {
  const end = url.search(/[?#]/);
  const raw = end === -1 ? url : url.slice(0, end);
  // An absolute-form target ("http://host/path") is allowed by HTTP/1.1; only its path counts.
  return decodeURIComponent(raw.startsWith("/") ? raw : new URL(raw).pathname);
}

/** A `..` segment (with either slash), or a NUL: never a dashboard file, so refused outright. */
function isTraversal(path: string): boolean {
  return path.includes("\0") || path.split(/[/\\]/).includes("..");
}

/** The precompressed copy the client accepts, best first, or the file itself. */
function representation(file: string, stats: Stats, acceptEncoding: string | undefined): Representation {
  if (acceptEncoding) {
    const accepted = acceptedCodings(acceptEncoding);
    for (const { coding, suffix } of ENCODINGS) {
      if (!accepted(coding)) continue;
      const copy = fileStats(file + suffix);
      if (copy !== undefined) return { path: file + suffix, stats: copy, coding };
    }
  }
  return { path: file, stats, coding: undefined };
}

/** Reads an Accept-Encoding header (RFC 9110 §12.5.3): a coding is accepted when listed, or matched by `*`, with q above 0. */
function acceptedCodings(header: string): (coding: string) => boolean {
  const q = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const weight = params.find((p) => p.startsWith("q="));
    q.set(name, weight === undefined ? 1 : Number(weight.slice(2)) || 0);
  }
  return (coding) => (q.get(coding) ?? q.get("*") ?? 0) > 0;
}

/** If-None-Match (RFC 9110 §13.1.2): `*`, or a list of tags compared weakly. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

function fileStats(path: string): Stats | undefined {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined; // missing or unreadable: treated as absent
  }
}
