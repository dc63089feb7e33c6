import { toJson, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { randomJsonValue, randomMessage } from "./messages.js";
import { mutateJson, oddJsonValue } from "./mutate.js";
import type { Random } from "../helpers/random.js";
import type { Tally } from "./tally.js";


/** Paths that are not RPCs: the dashboard's files, /metrics, and garbage. */
const GET_PATHS = ["/", "/index.html", "/metrics", "/assets/", "/%E0%A4%A", "/../../etc/passwd", "/assets/../../package.json", "/" + "a".repeat(5000), "/?x=%00", "/fastworker.v1.TaskService/Submit"];

/** Connect error codes (and HTTP statuses) that must never answer input. */
const NEVER = new Set(["internal", "unknown", "data_loss", "unavailable", "http 500", "http 502", "http 503", "network error"]);

function requestBody(rand: Random, method: DescMethod): { body: string | Buffer; contentType: string } {
  const r = rand.next();
  let valid = "{}";
  try {
    valid = JSON.stringify(toJson(method.input, randomMessage(rand, method.input)));
  } catch {
    // NaN in a Value and the like: the mutations below still apply to "{}".
  }
  if (r < 0.35) return { body: valid, contentType: "application/json" };
  if (r < 0.7) return { body: mutateJson(rand, valid), contentType: "application/json" };
  if (r < 0.8) return { body: JSON.stringify(randomJsonValue(rand)), contentType: "application/json" };
  if (r < 0.87) return { body: `{"${rand.pick(["task", "id", "argsJson", "args", "priority", "workerId", "pageSize", "states", "delay"])}":${oddJsonValue(rand)}}`, contentType: "application/json" };
  if (r < 0.93) {
    const contentType = rand.pick(["application/json", "application/proto", "application/connect+proto", "application/grpc-web+proto"]);
    const bytes = rand.bytes(rand.length(2000));
    if (contentType === "application/proto" || contentType === "application/json" || rand.chance(0.3)) return { body: bytes, contentType };
    const envelope = Buffer.alloc(5);
    envelope.writeUInt32BE(bytes.length, 1);
    return { body: Buffer.concat([envelope, bytes]), contentType };
  }
  return { body: valid, contentType: rand.pick(["text/plain", "application/connect+json", "application/grpc-web+json", ""]) };
}

/**
 * POSTs random and mutated JSON (and some bytes, and wrong content types) to
 * every Connect route, and GETs odd paths; records the Connect error code of
 * each answer ("ok" for a success), or its HTTP status when it has none.
 */
export class ConnectSurface {
  /** Every Connect route on the HTTP port: each method of the services mounted there (fastworker's). */
  private readonly routes: readonly { path: string; method: DescMethod }[];

  constructor(
    private readonly baseUrl: string,
    services: readonly DescService[],
  ) {
    this.routes = services.flatMap((s) => s.methods.map((m) => ({ path: `/${s.typeName}/${m.name}`, method: m })));
  }

  async send(rand: Random, tally: Tally): Promise<void> {
    if (rand.chance(0.05)) {
      const path = rand.pick(GET_PATHS);
      const status = await this.fetch(path, { method: rand.pick(["GET", "HEAD", "PUT", "DELETE"]) });
      tally.record("http other", status, NEVER.has(status), () => path);
      return;
    }
    const route = rand.pick(this.routes);
    const { body, contentType } = requestBody(rand, route.method);
    const headers: Record<string, string> = contentType === "" ? {} : { "content-type": contentType };
    if (rand.chance(0.1)) headers["connect-protocol-version"] = rand.pick(["1", "2", "x"]);
    if (rand.chance(0.05)) headers["connect-timeout-ms"] = rand.pick(["0", "-1", "99999999999", "abc"]);
    const status = await this.fetch(route.path, { method: "POST", headers, body });
    tally.record(`connect ${route.path.split("/")[1]}`, status, NEVER.has(status), () => `${route.path} ${contentType} ${typeof body === "string" ? body : body.toString("base64")}`);
  }

  /** The answer's Connect code, "ok", or "http N"; a streaming success is read no further. */
  private async fetch(path: string, init: RequestInit): Promise<string> {
    const abort = AbortSignal.timeout(10_000);
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, { ...init, signal: abort });
    } catch {
      return "network error";
    }
    const type = response.headers.get("content-type") ?? "";
    if (response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return "ok";
    }
    const text = await response.text().catch(() => "");
    if (type.includes("json")) {
      try {
        const code = (JSON.parse(text) as { code?: string }).code;
        if (code) return code;
      } catch {
        // not a Connect error body: fall back to the status
      }
    }
    return `http ${response.status}`;
  }
}
