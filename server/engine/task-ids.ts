import { randomBytes } from "node:crypto";

/**
 * Task ids: a random prefix drawn when the control plane starts (48 bits, so
 * ids of different runs do not collide) and a counter, in base 36: 17
 * characters instead of a UUID's 36: each id is stored once per task and
 * crosses the wire several times per task, so shorter is cheaper everywhere,
 * and making one costs no randomness. Ids sort by submission within a run
 * (as strings too: the counter has a fixed width).
 */
export class TaskIds {
  private readonly prefix = BigInt(`0x${randomBytes(6).toString("hex")}`).toString(36).padStart(10, "0");
  private counter = 0;

  next(): string {
    // Fixed width (7 base-36 digits: 78 billion ids) so ids also sort by submission as strings.
    return `${this.prefix}${(++this.counter).toString(36).padStart(7, "0")}`;
  }
}
