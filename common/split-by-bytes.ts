/**
 * The most bytes one stream message carries: well under what any receiver
 * takes (the control plane takes at least 16 MiB, clients and workers any).
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Measures a string for {@link ByteBudget.bytesOf}: its UTF-8 bytes, or an upper bound of them. */
export type TextBytes = (text: string) => number;

/** How items count against a message's byte limit. */
export interface ByteBudget<T> {
  /** The most bytes in one message; an item larger than this still goes, alone. */
  maxBytes: number;
  /**
   * An item's size on the wire: each string that can be long measured with
   * `text`, plus a fixed allowance for the rest (field tags, lengths, short
   * ids, numbers).
   */
  bytesOf(item: T, text: TextBytes): number;
}

/**
 * UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair, two
 * units, takes 4): the length times 3 never understates, at the cost of one
 * property read.
 */
const upperBound: TextBytes = (text) => text.length * 3;

/** The exact UTF-8 size (native, but it reads the whole string). */
const exact: TextBytes = (text) => Buffer.byteLength(text, "utf8");

/**
 * How many items from `start` go in one message of at most `budget.maxBytes`
 * bytes (at least one; at most `maxCount`).
 *
 * Sizes are in bytes, not UTF-16 length: a message of 3-byte characters
 * never passes the limit. The hot path stays cheap: items are measured with
 * the length upper bound while the total stays under the limit, which is
 * always the case for ordinary batches; only when the bound could pass it are
 * the strings of this message counted exactly (`Buffer.byteLength`).
 */
export function countByBytes<T>(items: readonly T[], start: number, budget: ByteBudget<T>, maxCount = Number.POSITIVE_INFINITY): number {
  const end = Math.min(items.length, start + maxCount);
  let text = upperBound;
  let bytes = 0;
  let i = start;
  for (; i < end; i++) {
    let size = budget.bytesOf(items[i]!, text);
    if (text === upperBound && bytes + size > budget.maxBytes) {
      // The bound may overstate up to 3 times: from here on count exactly, what is already in too.
      text = exact;
      bytes = 0;
      for (let j = start; j < i; j++) bytes += budget.bytesOf(items[j]!, text);
      size = budget.bytesOf(items[i]!, text);
    }
    if (i > start && bytes + size > budget.maxBytes) break;
    bytes += size;
  }
  return i - start;
}

/**
 * Splits items, in order, into messages of at most `budget.maxBytes` bytes
 * each (see {@link countByBytes}). Always at least one chunk, the array
 * itself when everything fits (so empty input gives one empty chunk).
 */
export function splitByBytes<T>(items: T[], budget: ByteBudget<T>): T[][] {
  let start = countByBytes(items, 0, budget);
  if (start === items.length) return [items];
  const chunks = [items.slice(0, start)];
  while (start < items.length) {
    const n = countByBytes(items, start, budget);
    chunks.push(items.slice(start, start + n));
    start += n;
  }
  return chunks;
}

/** A string map's size (e.g. a task's metadata): keys and values, a few bytes per entry for tags and lengths. */
export function mapBytes(map: Readonly<Record<string, string>> | undefined, text: TextBytes): number {
  let bytes = 0;
  for (const key in map) bytes += text(key) + text(map[key]!) + 8;
  return bytes;
}

/**
 * Whether `text` is more than `limit` bytes in UTF-8. Cheap for text that
 * is clearly short: the exact count only when `length × 3` passes the limit.
 */
export function exceedsBytes(text: string, limit: number): boolean {
  return text.length * 3 > limit && exact(text) > limit;
}
