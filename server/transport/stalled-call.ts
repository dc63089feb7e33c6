import { constants, type ServerHttp2Stream } from "node:http2";

/** How long a call's final status may wait to be delivered before its stream is reset. */
export const STATUS_DELIVERY_MS = 5000;

/**
 * Makes sure a server-streaming call that ended with an error frees what it
 * holds. Its status normally goes out at once; but when the peer stopped
 * reading, the status waits behind messages that fill the stream's HTTP/2
 * flow-control window, and the call (with those messages) would stay in
 * memory as long as the peer keeps the connection open. After `afterMs` such
 * a stream is reset (RST_STREAM CANCEL): the peer sees the call cancelled,
 * and the control plane's log says why.
 *
 * grpc-js exposes no way to reset a call, so this reaches its HTTP/2 stream
 * through the call's (internal) chain of intercepting calls; when it cannot
 * find one, it does nothing.
 */
export function resetIfUndelivered(call: object, afterMs: number, onReset: () => void): void {
  const stream = http2StreamOf(call);
  if (stream === undefined || stream.closed) return;
  const timer = setTimeout(() => {
    if (stream.closed || stream.destroyed) return;
    stream.close(constants.NGHTTP2_CANCEL);
    onReset();
  }, afterMs);
  timer.unref();
  stream.once("close", () => clearTimeout(timer));
}

function http2StreamOf(call: object): ServerHttp2Stream | undefined {
  let link: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 16 && typeof link === "object" && link !== null; depth++) {
    const stream = (link as { stream?: unknown }).stream;
    if (isStream(stream)) return stream;
    link = (link as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

function isStream(value: unknown): value is ServerHttp2Stream {
  return typeof value === "object" && value !== null && typeof (value as ServerHttp2Stream).close === "function" && "rstCode" in value;
}
