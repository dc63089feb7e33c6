import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GrpcConnection } from "../../common/transport/grpc-client.js";

/** What a call with some credential got: through the access check, or refused by it. */
export type Access = "allowed" | "unauthenticated" | "permission_denied" | `http ${number}`;

const classify = (code: Code | undefined, message = ""): Access => {
  if (code === Code.Unauthenticated) return "unauthenticated";
  // PERMISSION_DENIED from the access table names a scope; others (a session secret, fencing) come from the handler.
  if (code === Code.PermissionDenied && /needs the \w+ scope|access table/.test(message)) return "permission_denied";
  return "allowed";
};

/**
 * Calls one method on the gRPC port with an empty request (or an empty,
 * half-closed stream) and says whether the access check let it through:
 * any answer other than UNAUTHENTICATED or a scope refusal counts as
 * allowed (an empty request usually fails validation, after the check).
 */
export async function probeGrpc(address: string, token: string | undefined, method: DescMethod): Promise<Access> {
  const connection = new GrpcConnection({ address, token });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const client = connection.service(method.parent as DescService) as Record<string, (...args: unknown[]) => unknown>;
    const call = client[method.localName]!;
    if (method.methodKind === "unary") await (call({}, { signal: abort.signal, timeoutMs: 10_000 }) as Promise<unknown>);
    else if (method.methodKind === "server_streaming") {
      for await (const _ of call({}, { signal: abort.signal }) as AsyncIterable<unknown>) break; // one message: it was let through
    } else {
      const stream = call({ signal: abort.signal }) as { end(): void; responses: AsyncIterable<unknown> };
      stream.end();
      for await (const _ of stream.responses) break;
    }
    return "allowed";
  } catch (err) {
    const e = ConnectError.from(err);
    return classify(e.code, e.rawMessage);
  } finally {
    clearTimeout(timer);
    abort.abort();
    connection.close();
  }
}

/**
 * The same over the Connect protocol on the HTTP port, with fetch: a unary
 * call as JSON, a streaming one as one enveloped empty message; the answer
 * is read until its first message or its end.
 */
export async function probeHttp(baseUrl: string, token: string | undefined, method: DescMethod, init: RequestInit = {}): Promise<Access> {
  const streaming = method.methodKind !== "unary";
  const body = streaming ? Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from("{}")]) : "{}";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const response = await fetch(`${baseUrl}/${method.parent.typeName}/${method.name}`, {
      ...init,
      method: "POST",
      headers: { "content-type": streaming ? "application/connect+json" : "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
      signal: abort.signal,
    });
    if (!streaming) {
      if (response.ok) return "allowed";
      if (!(response.headers.get("content-type") ?? "").includes("json")) return `http ${response.status}`;
      const error = (await response.json()) as { code?: string; message?: string };
      return classify(codeOf(error.code), error.message);
    }
    if (!response.ok) return `http ${response.status}`;
    // Enveloped messages: 1 flag byte (2 = end of stream), 4 length bytes, then JSON.
    let buffer = Buffer.alloc(0);
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 5) continue;
      const length = buffer.readUInt32BE(1);
      if (buffer.length < 5 + length) continue;
      if ((buffer[0]! & 2) === 0) return "allowed"; // a message: it was let through
      const end = JSON.parse(buffer.subarray(5, 5 + length).toString("utf8")) as { error?: { code?: string; message?: string } };
      return classify(codeOf(end.error?.code), end.error?.message);
    }
    return "allowed";
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function codeOf(name: string | undefined): Code | undefined {
  if (name === undefined) return undefined;
  const key = name.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase()) as keyof typeof Code;
  return Code[key];
}
