/**
 * How much of a handler's ctx.log() output is kept. The worker applies the
 * bounds to each attempt before anything is sent (so a handler logging in a
 * loop cannot grow a report without bound), and the control plane again to
 * each task (so no worker can make a task's record grow without bound).
 */
export const LOG_LIMITS = Object.freeze({
  /** UTF-8 bytes of one line; longer lines are cut with "…[cut N bytes]". */
  lineBytes: 2048,
  /** Lines kept per task (over all its attempts); later ones are dropped after one marker line. */
  taskLines: 1000,
  /** UTF-8 bytes of text kept per task. */
  taskBytes: 64 * 1024,
});

/** The line that marks where a task's log was cut. */
export const LOG_CUT_MARKER = `…[log cut: at most ${LOG_LIMITS.taskLines} lines and ${LOG_LIMITS.taskBytes / 1024} KiB are kept per task; later lines were dropped]`;

const encoder = new TextEncoder();

/** UTF-8 bytes of a text. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Room for the cut marker beyond a line's bound, so cutting a cut line again changes nothing. */
const MARKER_ROOM = 32;

/**
 * A log line as it is kept: control characters but tab turned into spaces
 * (one line stays one line), past {@link LOG_LIMITS}.lineBytes cut there
 * with a marker. Idempotent: the worker cuts, the control plane cuts again.
 */
export function logLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, " ");
  if (flat.length * 3 <= LOG_LIMITS.lineBytes) return flat;
  const total = utf8Bytes(flat);
  if (total <= LOG_LIMITS.lineBytes + MARKER_ROOM) return flat;
  const room = new Uint8Array(LOG_LIMITS.lineBytes);
  const { read, written } = encoder.encodeInto(flat, room);
  return `${flat.slice(0, read)}…[cut ${total - written} bytes]`;
}
