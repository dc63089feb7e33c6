import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";

/**
 * Makes the HTTP port answer an undecodable binary request with
 * INVALID_ARGUMENT, like the gRPC port does (see guarded-server.ts).
 * connect-es answers a protobuf body it cannot parse with INTERNAL ("parse
 * binary: …"), which reads as a bug in the control plane rather than bad
 * input.
 *
 * Every route's handler is wrapped: a binary request's body (Connect
 * `application/proto`, or the enveloped `application/connect+proto`,
 * `application/grpc-web+proto`, `application/grpc`) is read first, at most
 * `readMaxBytes` of it, and each message decoded as the method's request
 * type. When one does not decode, the body fails with INVALID_ARGUMENT
 * naming the method and the reason, which connect-es then answers in the
 * request's protocol; otherwise connect-es gets the same bytes. Compressed
 * messages, JSON and oversized bodies are left to connect-es (which limits
 * them). Call after every service is on the router.
 */
export function guardBinaryRequests(router: ConnectRouter, readMaxBytes: number): void {
  const handlers = router.handlers;
  for (let i = 0; i < handlers.length; i++) handlers[i] = guarded(handlers[i]!, readMaxBytes);
}

function guarded(handler: UniversalHandler, readMaxBytes: number): UniversalHandler {
  const input = handler.method.input;
  const path = handler.requestPath;
  const wrapped = (request: UniversalServerRequest): ReturnType<UniversalHandler> => {
    const framing = binaryFraming(request.header.get("content-type"));
    const body = request.body;
    if (framing === undefined || compressed(request.header) || typeof body !== "object" || body === null || !(Symbol.asyncIterator in body)) {
      return handler(request);
    }
    return handler({ ...request, body: checkedBody(body as AsyncIterable<Uint8Array>, framing, input, path, readMaxBytes) });
  };
  return Object.assign(wrapped, handler);
}

/** How a binary body holds its messages: one bare message, or 5-byte envelopes; undefined for anything else. */
function binaryFraming(contentType: string | null): "bare" | "enveloped" | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/proto") return "bare";
  if (type === "application/connect+proto" || type === "application/grpc-web+proto" || type === "application/grpc-web" || type === "application/grpc" || type === "application/grpc+proto") {
    return "enveloped";
  }
  return undefined;
}

function compressed(header: Headers): boolean {
  const encoding = header.get("content-encoding") ?? header.get("connect-content-encoding") ?? "identity";
  return encoding !== "identity";
}

async function* checkedBody(body: AsyncIterable<Uint8Array>, framing: "bare" | "enveloped", input: DescMessage, path: string, readMaxBytes: number): AsyncIterable<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size > readMaxBytes) {
      // Too large to check here: connect-es refuses it (RESOURCE_EXHAUSTED) as it reads on.
      yield* chunks;
      yield* body;
      return;
    }
  }
  const bytes = Buffer.concat(chunks);
  const problem = framing === "bare" ? decodeProblem(input, bytes) : envelopesProblem(input, bytes);
  if (problem !== undefined) throw new ConnectError(`the request to ${path} is not a valid message: ${problem}`, Code.InvalidArgument);
  yield bytes;
}

function decodeProblem(input: DescMessage, bytes: Uint8Array): string | undefined {
  try {
    fromBinary(input, bytes);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Checks each uncompressed data envelope (flags, then a 4-byte length, then the message). */
function envelopesProblem(input: DescMessage, bytes: Buffer): string | undefined {
  for (let at = 0; at + 5 <= bytes.length; ) {
    const flags = bytes[at]!;
    const length = bytes.readUInt32BE(at + 1);
    const end = at + 5 + length;
    if (end > bytes.length) return undefined; // a cut envelope: connect-es says so itself
    if (flags === 0) {
      const problem = decodeProblem(input, bytes.subarray(at + 5, end));
      if (problem !== undefined) return problem;
    }
    at = end;
  }
  return undefined;
}
