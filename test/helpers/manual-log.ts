import type { Collection, LogValue, LogWrite, StateLog } from "../../server/store/state-log.js";

/** A batch handed to a ManualLog, waiting for the test to say how its write ends. */
export interface PendingWrite {
  readonly batch: readonly LogWrite[];
  /** The batch reached the disk. */
  persist(): void;
  /** The write failed (a full disk, an I/O error). */
  fail(err: Error): void;
}

/**
 * A StateLog the test drives by hand: every write waits until the test
 * persists or fails it, so a test can look at what went out before a commit
 * resolved. `crash()` keeps only what was persisted, like a process killed
 * at that moment; `reopen()` gives a log on that surviving state.
 */
export class ManualLog implements StateLog {
  readonly description = "manual log (test)";
  readonly pending: PendingWrite[] = [];
  private readonly durable = new Map<Collection, Map<string, LogValue>>();
  private waiters: (() => void)[] = [];

  constructor(initial?: Map<Collection, Map<string, LogValue>>) {
    for (const [collection, records] of initial ?? []) this.durable.set(collection, new Map(records));
  }

  async *load(collection: Collection): AsyncIterable<readonly [string, LogValue]> {
    yield* [...(this.durable.get(collection) ?? new Map<string, LogValue>())].sort(([a], [b]) => (a < b ? -1 : 1));
  }

  write(batch: readonly LogWrite[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        batch,
        persist: () => {
          this.apply(batch);
          resolve();
        },
        fail: reject,
      });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves once at least `n` writes are pending. */
  async writes(n = 1): Promise<void> {
    while (this.pending.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Persists every pending write, oldest first. */
  persistAll(): void {
    for (const write of this.pending.splice(0)) write.persist();
  }

  /** What survives a crash now: only persisted batches. */
  crash(): ManualLog {
    return new ManualLog(this.durable);
  }

  async close(): Promise<void> {}

  private apply(batch: readonly LogWrite[]): void {
    for (const w of batch) {
      let records = this.durable.get(w.collection);
      if (records === undefined) this.durable.set(w.collection, (records = new Map()));
      if (w.value === undefined) records.delete(w.key);
      else records.set(w.key, w.value);
    }
  }
}
