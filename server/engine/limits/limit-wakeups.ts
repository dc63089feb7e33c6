import { MinHeap } from "../../store/min-heap.js";
import { DueTimer } from "../../loops/due-timer.js";
import type { Loop } from "../../loops/interval-loop.js";

/**
 * The flow limits' one timer: wakes lanes whose rate limit has a token again
 * (or whose bucket is full, so an idle lane can be forgotten). Entries are
 * tagged with the time they were set for; the owner ignores a wake-up whose
 * time it no longer wants. One timer, set for the earliest entry.
 */
export class LimitWakeups<T> implements Loop {
  private readonly heap = new MinHeap<T>();
  private readonly timer = new DueTimer(() => {
    this.runOnce(Date.now());
    this.arm(Date.now());
  });
  private running = false;

  /** @param onDue receives each item whose time came, with the time it was set for. */
  constructor(private readonly onDue: (item: T, at: number, now: number) => void) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm(Date.now());
  }

  stop(): void {
    this.running = false;
    this.timer.clear();
  }

  /** Entries waiting (stale ones included). */
  get size(): number {
    return this.heap.length;
  }

  /** Wakes `item` at `at`. */
  add(item: T, at: number, now: number): void {
    this.heap.push(item, at, at);
    if (at < this.timer.at) this.arm(now);
  }

  /** Hands back every entry due by `now`; returns how many. */
  runOnce(now: number): number {
    let due = 0;
    while (this.heap.peekKey() <= now) {
      const at = this.heap.peekTag();
      const item = this.heap.pop()!;
      due++;
      this.onDue(item, at, now);
    }
    return due;
  }

  private arm(now: number): void {
    if (this.running) this.timer.set(this.heap.peekKey(), now);
  }
}
