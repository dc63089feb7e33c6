import { Code, ConnectError } from "@connectrpc/connect";
import type { LogValue } from "../store/state-log.js";
import type { TaskStore } from "../store/task-store.js";

/** The most names paused at once: a pause is a record kept until resumed, so it is bounded. */
export const MAX_PAUSED_NAMES = 10_000;
/** Where the pauses are kept: one "meta" record, name → when it was paused (ms since epoch). */
export const PAUSES_RECORD = "paused-names";

/**
 * Task names paused with PauseTaskName (bull-board's "pause queue"): their
 * queued tasks are not dispatched until resumed, while submissions are still
 * accepted and queue behind them, and running attempts go on. The store
 * skips a paused name's queues (Queues.pauseName); this keeps which names
 * are paused and since when, durable in the store's "meta" collection, so a
 * pause survives a restart.
 */
export class NamePauses {
  private readonly byName = new Map<string, number>();

  constructor(private readonly d: { store: TaskStore; wakeDispatcher: () => void }) {}

  /** Pauses a name (again: keeps the first time); answers when it was paused. */
  pause(name: string, now: number): number {
    const since = this.byName.get(name);
    if (since !== undefined) return since;
    if (this.byName.size >= MAX_PAUSED_NAMES) {
      throw new ConnectError(`${MAX_PAUSED_NAMES} task names are paused already, the most there can be; resume some first`, Code.ResourceExhausted);
    }
    this.byName.set(name, now);
    this.d.store.pauseName(name);
    this.save();
    return now;
  }

  /** Resumes a name; its queued tasks run again in their order. False when it was not paused. */
  resume(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.d.store.resumeName(name);
    this.save();
    this.d.wakeDispatcher();
    return true;
  }

  /** When a name was paused, or undefined when it is not. */
  pausedAt(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** Paused names. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** After a restart: the pauses the store kept. */
  restore(value: LogValue | undefined): void {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return;
    for (const [name, at] of Object.entries(value)) {
      if (typeof at !== "number" || this.byName.size >= MAX_PAUSED_NAMES) continue;
      this.byName.set(name, at);
      this.d.store.pauseName(name);
    }
  }

  private save(): void {
    this.d.store.saveRecord("meta", PAUSES_RECORD, this.byName.size === 0 ? undefined : Object.fromEntries(this.byName));
  }
}
