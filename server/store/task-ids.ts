import { randomBytes } from "node:crypto";

/** Characters of the per-run prefix. */
const PREFIX_LENGTH = 10;
/** Base-36 digits of the counter: fixed width, so ids also sort by submission as strings (78 billion ids). */
const COUNTER_LENGTH = 7;
const COUNTER = /^[0-9a-z]{7,}$/;

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

  /** The id of the task created `order`-th in this run. */
  format(order: number): string {
    return this.prefix + order.toString(36).padStart(COUNTER_LENGTH, "0");
  }

  /** The creation order an id of this run stands for, or undefined for any other string. */
  orderOf(id: string): number | undefined {
    if (id.length < PREFIX_LENGTH + COUNTER_LENGTH || !id.startsWith(this.prefix)) return undefined;
    const counter = id.slice(PREFIX_LENGTH);
    if (!COUNTER.test(counter)) return undefined;
    const order = parseInt(counter, 36);
    // Past 7 digits (78 billion tasks) the width grows: only the canonical spelling is an id.
    return counter.length === COUNTER_LENGTH || this.format(order) === id ? order : undefined;
  }
}
