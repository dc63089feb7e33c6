import { randomBytes } from "node:crypto";

/** Characters of the per-run prefix. */
const PREFIX_LENGTH = 10;
/** Base-36 digits of the counter: fixed width, so ids also sort by submission as strings (78 billion ids). */
const COUNTER_LENGTH = 7;
/** Orders up to this have a counter of COUNTER_LENGTH digits; past it the width grows. */
const FIXED_WIDTH_ORDERS = 36 ** COUNTER_LENGTH;
/** The counter's last two digits for each of their 1,296 values. */
const LAST_TWO = Array.from({ length: 36 * 36 }, (_, n) => n.toString(36).padStart(2, "0"));
/** How many heads (prefix and the counter's first five digits) {@link TaskIds.format} keeps: a power of two. */
const HEADS = 8;

/**
 * Task ids: a random prefix drawn when the control plane starts (48 bits, so
 * ids of different runs do not collide) and a counter, in base 36: 17
 * characters instead of a UUID's 36: each id crosses the wire several times
 * per task, so shorter is cheaper everywhere, and making one costs no
 * randomness. Ids sort by submission within a run (as strings too: the
 * counter has a fixed width).
 *
 * The counter is the task's creation order (TaskRecord.order), so an id made
 * in this run is never stored: the record keeps this object and the id is
 * written out when read ({@link format}), and a lookup by id reads the order
 * back ({@link orderOf}) and finds the record by it. That saves the id string
 * (40 bytes) and an id → record map entry (about 30) per task.
 */
export class TaskIds {
  private readonly prefix = BigInt(`0x${randomBytes(6).toString("hex")}`).toString(36).padStart(PREFIX_LENGTH, "0");

  /** Heads of ids made lately, by the counter's first five digits (order ÷ 1,296) modulo HEADS. */
  private readonly heads: string[] = new Array<string>(HEADS).fill("");
  private readonly headOf = new Float64Array(HEADS).fill(-1);

  /**
   * The id of the task created `order`-th in this run. Every id is spelled
   * again each time it is sent (three times per task), so the first 15
   * characters are kept for the last few runs of 1,296 orders, where
   * neighbouring tasks share them (submissions, dispatches and outcomes each
   * move through orders nearly in sequence), and only the last two digits
   * are looked up. Measured with the write to a buffer that follows (which
   * flattens the string): 180–190 ns per id against 225–255 with toString
   * and padStart, and no digit strings left to collect
   * (bench/experiments/task-ids.mjs).
   */
  format(order: number): string {
    if (order >= FIXED_WIDTH_ORDERS || order < 0) return this.prefix + order.toString(36).padStart(COUNTER_LENGTH, "0");
    const high = Math.floor(order / LAST_TWO.length);
    const slot = high & (HEADS - 1);
    if (this.headOf[slot] !== high) {
      this.heads[slot] = this.prefix + high.toString(36).padStart(COUNTER_LENGTH - 2, "0");
      this.headOf[slot] = high;
    }
    return this.heads[slot]! + LAST_TWO[order - high * LAST_TWO.length]!;
  }

  /**
   * The creation order an id of this run stands for, or undefined for any
   * other string. Read digit by digit: every report and lookup calls this,
   * and a slice, a regular expression and parseInt took twice as long
   * (measured: 150 ns against 70 per id, bench/experiments/task-ids.mjs).
   */
  orderOf(id: string): number | undefined {
    const length = id.length;
    // At most 10 digits: 36^10 is below 2^53, so every order read is exact (and orders never come near).
    if (length < PREFIX_LENGTH + COUNTER_LENGTH || length > PREFIX_LENGTH + 10 || !id.startsWith(this.prefix)) return undefined;
    let order = 0;
    for (let i = PREFIX_LENGTH; i < length; i++) {
      const c = id.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1; // 0-9, a-z
      if (digit < 0) return undefined;
      order = order * 36 + digit;
    }
    // Past 7 digits (78 billion tasks) the width grows: only the canonical spelling is an id.
    return length === PREFIX_LENGTH + COUNTER_LENGTH || this.format(order) === id ? order : undefined;
  }
}
