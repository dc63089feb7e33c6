import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startServer } from "./helpers/processes.js";

// The dashboard as `npm run build` left it, served by a token-protected control plane.
describe("the dashboard's files on the HTTP port", () => {
  it("go out precompressed with ETag and cache headers, with no token needed, while RPCs still need it", async () => {
    const server = await startServer(["--token", "s3cret-0123456789abcdef"]);
    const index = readFileSync("dashboard/dist/index.html", "utf8");
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(index)![1]!;

    const page = await fetch(`${server.http}/`, { headers: { "accept-encoding": "br" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-encoding")).toBe("br");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toBe(index);
    const etag = page.headers.get("etag")!;
    const again = await fetch(`${server.http}/`, { headers: { "accept-encoding": "br", "if-none-match": etag } });
    expect(again.status).toBe(304);

    const gzip = await fetch(`${server.http}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    expect(gzip.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const identity = await fetch(`${server.http}${script}`, { headers: { "accept-encoding": "identity" } });
    expect(identity.headers.get("content-encoding")).toBeNull();
    expect(await gzip.text()).toBe(await identity.text());

    const rpc = await fetch(`${server.http}/fastworker.v1.AdminService/GetStats`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(rpc.status).toBe(401);
  });
});
