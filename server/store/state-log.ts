/**
 * Where the control plane's state lives durably. The store keeps the whole
 * state in memory (the read model: queues, indexes, listings) and writes
 * every change to a log: named collections of key → value records, written
 * in batches. At start the store reads the collections back and rebuilds.
 *
 * A log knows nothing about tasks: values are plain data (arrays, strings,
 * numbers, booleans, null, nested), encoded by the store's codecs. So an
 * embedded store (lmdb) and PostgreSQL implement the same small interface,
 * and `store.suite.ts` runs the same behaviour against each.
 */
export interface StateLog {
  /** Says where the state is, for the ready line and logs (e.g. "lmdb at /var/lib/fw"). */
  readonly description: string;
  /** Every record of a collection, in key order. Called at start, before any write. */
  load(collection: Collection): AsyncIterable<readonly [key: string, value: LogValue]>;
  /**
   * Applies a batch atomically, in order, and resolves once it is durable
   * (on disk, fsync'd). Batches are written in the order write() was called.
   * A rejection means the batch may not be stored: the store stops
   * acknowledging anything from then on.
   */
  write(batch: readonly LogWrite[]): Promise<void>;
  /** Waits for pending writes and releases the log (files, locks, connections). */
  close(): Promise<void>;
  /**
   * Reads that answer at once, in key order, from what is committed (a
   * write becomes visible here once committed, possibly before it is
   * durable). Only a log that can read synchronously offers them (LMDB);
   * the store keeps a cold tier of queued tasks on disk only with them
   * (see ColdTier), else everything stays in memory.
   */
  readonly reads?: SyncReads;
}

/** Synchronous reads of committed records, for the store's cold tier. */
export interface SyncReads {
  /** One record, or undefined. */
  get(collection: Collection, key: string): LogValue | undefined;
  /**
   * Up to `limit` records of a collection, in key order: keys in [start,
   * end); with `reverse`, descending from `start` (included) down to `end`
   * (excluded), as LMDB reads backwards.
   */
  range(collection: Collection, range: KeyRange): Iterable<readonly [key: string, value: LogValue]>;
  /** The keys of a collection in [start, end), in key order (values not read). */
  keys(collection: Collection, start: string, end: string): Iterable<string>;
}

/** Which keys {@link SyncReads.range} reads, and how many. */
export interface KeyRange {
  start: string;
  end: string;
  limit: number;
  reverse?: boolean;
}

/**
 * The collections the store writes: tasks and their large args; worker
 * sessions, task definitions and process metadata; idempotency keys that
 * outlive their tasks; schedules with their last tick; flow limits declared
 * and overridden; queued tasks kept on disk only (the cold tier, keyed in
 * queue order: see ColdTier).
 */
export type Collection = "tasks" | "args" | "workers" | "definitions" | "meta" | "keys" | "schedules" | "limits" | "cold";

/** A record value: plain data only. */
export type LogValue = string | number | boolean | null | readonly LogValue[] | { readonly [key: string]: LogValue };

/** One put (value set) or delete (value undefined) in a batch. */
export interface LogWrite {
  readonly collection: Collection;
  readonly key: string;
  readonly value: LogValue | undefined;
}
