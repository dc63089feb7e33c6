import { createReadStream, statSync } from "node:fs";
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

/**
 * Serves the built dashboard from `root`: GET and HEAD only, no directory
 * listings, no paths outside root; unknown paths get index.html (the page
 * routes itself). The files hold no data: everything the page shows comes
 * through Connect calls, which the token guards.
 */
export function staticFiles(root: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("malformed URL\n");
      return; // a malformed path is the client's mistake, answered above
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(404).end();
      return;
    }
    if (!isFile(file)) file = join(root, "index.html");
    if (!isFile(file)) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("The dashboard is not built. Run `npm run build` in the fastworker package.\n");
      return;
    }
    const isAsset = path.startsWith("/assets/");
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": isAsset ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file)
      .on("error", (err) => res.destroy(err))
      .pipe(res);
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // missing or unreadable: treated as absent
  }
}
