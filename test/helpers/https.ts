import { request } from "node:https";

/** What an HTTPS request got. */
export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Options for {@link httpsRequest}: the CA to trust, an optional client certificate, and the request. */
export interface HttpsOptions {
  ca: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One HTTPS request with node:https (fetch cannot be given a CA on Node 20 without undici). Rejects on a TLS failure. */
export function httpsRequest(url: string, options: HttpsOptions): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: options.ca, cert: options.cert, key: options.key, method: options.method ?? "GET", headers: options.headers, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}
