import { Code, ConnectError } from "@connectrpc/connect";
import type { QueueBound } from "../../common/async-queue.js";
import { formatBytes } from "../../common/format-bytes.js";

/** The most messages a server stream holds for a reader that falls behind. */
export const MAX_UNREAD_MESSAGES = 4096;
/** The most bytes a server stream holds for a reader that falls behind (at least; 4 × --max-payload when larger). */
export const MAX_UNREAD_BYTES = 64 * 1024 * 1024;

/**
 * The bound of an outgoing stream (Session responses, Dispatch, report
 * answers): a reader that stops reading while messages keep coming is cut
 * off with RESOURCE_EXHAUSTED saying why, instead of the control plane
 * buffering for it until memory runs out. A reader that keeps up never
 * comes near it (messages wait only while the transport's own buffers are
 * full). `sizeOf` estimates a message (UTF-16 lengths are fine).
 */
export function unreadBound<T>(stream: string, maxPayloadBytes: number, sizeOf: (message: T) => number, advice: string): QueueBound<T> {
  const maxBytes = Math.max(MAX_UNREAD_BYTES, 4 * maxPayloadBytes);
  return {
    maxItems: MAX_UNREAD_MESSAGES,
    maxBytes,
    sizeOf,
    overflow: ({ items, bytes }) =>
      new ConnectError(
        `the ${stream} stream was not read: ${items} messages (${formatBytes(bytes)}) waited, past the limit of ${MAX_UNREAD_MESSAGES} messages or ${formatBytes(maxBytes)}, so the control plane ended it; ${advice}`,
        Code.ResourceExhausted,
      ),
  };
}
