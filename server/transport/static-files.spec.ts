import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticFiles } from "./static-files.js";

const INDEX = '<!doctype html><script type="module" src="/assets/main-ABC123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify("dashboard ".repeat(200))});`;
const SECRET = "outside the dashboard directory";

let dir: string;
let server: Server;
let port: number;

/** One raw HTTP/1.1 request: the target goes out exactly as written (no dot-segment clean-up). */
function get(target: string, headers: Record<string, string> = {}, method = "GET", to = port): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port: to, path: target, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fw-static-"));
  const root = join(dir, "dist");
  mkdirSync(join(root, "assets"), { recursive: true });
  writeFileSync(join(dir, "secret.txt"), SECRET);
  writeFileSync(join(root, "index.html"), INDEX);
  writeFileSync(join(root, "index.html.br"), brotliCompressSync(INDEX));
  writeFileSync(join(root, "index.html.gz"), gzipSync(INDEX));
  writeFileSync(join(root, "assets", "main-ABC123.js"), SCRIPT);
  writeFileSync(join(root, "assets", "main-ABC123.js.br"), brotliCompressSync(SCRIPT));
  writeFileSync(join(root, "assets", "main-ABC123.js.gz"), gzipSync(SCRIPT));
  writeFileSync(join(root, "assets", "plain.css"), "body{}"); // no compressed copies
  server = createServer(staticFiles(root));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("staticFiles", () => {
  it("sends brotli to browsers that accept it, else gzip, else the file as it is", async () => {
    const br = await get("/assets/main-ABC123.js", { "accept-encoding": "gzip, deflate, br, zstd" });
    expect(br.status).toBe(200);
    expect(br.headers).toMatchObject({ "content-encoding": "br", "content-type": "text/javascript; charset=utf-8", vary: "accept-encoding" });
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    expect(Number(br.headers["content-length"])).toBe(br.body.length);

    const gzip = await get("/assets/main-ABC123.js", { "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzip.body).toString()).toBe(SCRIPT);

    const refused = await get("/assets/main-ABC123.js", { "accept-encoding": "br;q=0, gzip;q=0.5" });
    expect(refused.headers["content-encoding"]).toBe("gzip");
    expect((await get("/assets/main-ABC123.js", { "accept-encoding": "*" })).headers["content-encoding"]).toBe("br");

    for (const headers of [{}, { "accept-encoding": "identity" }, { "accept-encoding": "br;q=0, gzip;q=0" }] as Record<string, string>[]) {
      const identity = await get("/assets/main-ABC123.js", headers);
      expect(identity.headers["content-encoding"]).toBeUndefined();
      expect(identity.headers.vary).toBe("accept-encoding");
      expect(identity.body.toString()).toBe(SCRIPT);
    }

    // No compressed copy: the file as it is, whatever the browser accepts.
    const css = await get("/assets/plain.css", { "accept-encoding": "br, gzip" });
    expect(css.headers["content-encoding"]).toBeUndefined();
    expect(css.body.toString()).toBe("body{}");
  });

  it("lets hashed assets be cached for a year, and revalidates index.html by ETag", async () => {
    const asset = await get("/assets/main-ABC123.js", { "accept-encoding": "br" });
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers["x-content-type-options"]).toBe("nosniff");

    const page = await get("/", { "accept-encoding": "br" });
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({ "cache-control": "no-cache", "content-type": "text/html; charset=utf-8", "content-encoding": "br" });
    const etag = page.headers.etag!;
    expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+-br"$/);

    // Unchanged: 304 with no body, for the tag as sent, weak, or in a list.
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const again = await get("/", { "accept-encoding": "br", "if-none-match": tag });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers).toMatchObject({ etag, "cache-control": "no-cache", vary: "accept-encoding" });
    }
    expect((await get("/", { "accept-encoding": "br", "if-none-match": '"other"' })).status).toBe(200);

    // Each representation has its own tag: a gzip tag does not validate the brotli copy.
    const gzipPage = await get("/", { "accept-encoding": "gzip" });
    expect(gzipPage.headers.etag).not.toBe(etag);
    expect((await get("/", { "accept-encoding": "br", "if-none-match": gzipPage.headers.etag! })).status).toBe(200);
    expect((await get("/", { "if-none-match": etag })).status).toBe(200);
  });

  it("serves index.html for unknown paths, uncached even under /assets/", async () => {
    for (const path of ["/tasks/abc", "/index.html", "/assets/main-OLD.js"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(INDEX);
      expect(res.headers["cache-control"]).toBe("no-cache");
    }
  });

  it("answers HEAD with the headers only, refuses other methods and malformed URLs", async () => {
    const head = await get("/assets/main-ABC123.js", { "accept-encoding": "gzip" }, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-encoding"]).toBe("gzip");
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
    const post = await get("/", {}, "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    expect((await get("/%E0%A4%A")).status).toBe(400);
  });

  it("refuses paths that climb out of the directory, however they are spelled", async () => {
    const attempts = [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E%2Fsecret.txt",
      "/..%2fsecret.txt",
      "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/..%5csecret.txt",
      "/../package.json",
      "/%2e%2e/%2e%2e/package.json",
      "/index.html%00.js",
    ];
    for (const target of attempts) {
      const res = await get(target, { "accept-encoding": "br, gzip" });
      expect(res.status, target).toBe(404);
      expect(res.body.toString(), target).not.toContain(SECRET);
    }
  });

  it("says how to build the dashboard when it is not built", async () => {
    const empty = createServer(staticFiles(join(dir, "missing")));
    await new Promise<void>((resolve) => empty.listen(0, "127.0.0.1", resolve));
    try {
      const res = await get("/", {}, "GET", (empty.address() as AddressInfo).port);
      expect(res.status).toBe(404);
      expect(res.body.toString()).toContain("npm run build");
    } finally {
      await new Promise((resolve) => empty.close(resolve));
    }
  });
});
