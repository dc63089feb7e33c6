import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { DataDirLock } from "./data-dir-lock.js";
import type { LmdbLog } from "./lmdb-log.js";
import type { StateLog } from "./state-log.js";
import { TaskStore, type Recovered } from "./task-store.js";

/** The default of `--hot-queued`: the default `--max-queued`, so the cold tier is used only when that is raised. */
export const HOT_QUEUED_DEFAULT = 1_000_000;

/** Options for {@link openState}. */
export interface StateOptions {
  /** A directory for durable state (created if missing), or undefined to keep everything in memory. */
  dataDir: string | undefined;
  /** A log to keep the state in instead (PostgreSQL: the group's leadership guards it, so no directory lock). */
  log?: StateLog;
  resultTtlMs: number;
  maxResults: number;
  /** How long idempotency keys are remembered after their tasks finished (see TaskStoreOptions). */
  keyTtlMs?: number;
  /** In a data directory: queued tasks kept in memory before new ones wait on disk only (see ColdTier). */
  hotQueued?: number;
  /** Called once if the state can no longer be written (nothing is acknowledged from then on). */
  onFailure(err: Error): void;
}

/** The store a control plane runs on, with what it recovered, and how to let it go. */
export interface OpenedState {
  readonly store: TaskStore;
  /** What was read back from the data directory; undefined in memory. */
  readonly recovered: Recovered | undefined;
  /** Writes what is pending, closes the log and releases the data directory. */
  close(): Promise<void>;
}

/**
 * Opens the control plane's state: in memory, in a data directory (locked
 * against a second control plane, an LMDB log inside), or on a given log;
 * every record is read back.
 */
export async function openState(options: StateOptions): Promise<OpenedState> {
  const memory = { resultTtlMs: options.resultTtlMs, maxResults: options.maxResults, keyTtlMs: options.keyTtlMs };
  if (options.log !== undefined) {
    const { store, recovered } = await TaskStore.open({ ...memory, log: options.log, onLogFailure: options.onFailure });
    return { store, recovered, close: () => store.close() };
  }
  if (options.dataDir === undefined) {
    const store = new TaskStore(memory);
    return { store, recovered: undefined, close: () => store.close() };
  }
  const dir = resolve(options.dataDir);
  mkdirSync(dir, { recursive: true });
  const lock = await DataDirLock.acquire(dir);
  let log: LmdbLog | undefined;
  try {
    // Loaded only for a data directory: lmdb costs ~12 MiB of RSS that --in-memory does not need.
    const { LmdbLog } = await import("./lmdb-log.js");
    log = LmdbLog.open(dir);
    const { store, recovered } = await TaskStore.open({ ...memory, log, hotQueued: options.hotQueued, onLogFailure: options.onFailure });
    return {
      store,
      recovered,
      async close() {
        await store.close();
        await lock.release();
      },
    };
  } catch (err) {
    await log?.close();
    await lock.release();
    throw err;
  }
}
