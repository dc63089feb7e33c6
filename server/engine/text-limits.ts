/**
 * The most UTF-8 bytes kept of each text a worker (or a canceller) supplies.
 * Longer text is cut and marked, never refused: an error message must not
 * make a task's outcome disappear, and a long stack trace must not hold
 * megabytes per task for the result TTL.
 */
export const TEXT_LIMITS = Object.freeze({
  workerName: 256,
  workerHost: 256,
  workerVersion: 64,
  progressMessage: 1024,
  errorMessage: 8 * 1024,
  errorStack: 32 * 1024,
  errorType: 256,
  cancelReason: 1024,
});

const encoder = new TextEncoder();
/** Room for the longest prefix kept (the largest limit above). */
let scratch = new Uint8Array(0);

/**
 * `text` when it is at most `maxBytes` bytes of UTF-8; else its longest
 * prefix of whole characters within `maxBytes`, followed by
 * "…[truncated N bytes]" (N: the bytes left out). Cheap for short text: the
 * exact size is counted only when length × 3 passes the limit.
 */
export function truncateText(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const total = Buffer.byteLength(text, "utf8");
  if (total <= maxBytes) return text;
  if (scratch.length < maxBytes) scratch = new Uint8Array(maxBytes);
  // encodeInto stops before a character that does not fit whole: `read` is a clean cut.
  const { read, written } = encoder.encodeInto(text, scratch.subarray(0, maxBytes));
  return `${text.slice(0, read)}…[truncated ${total - written} bytes]`;
}
