import { createHash } from "node:crypto";
import type { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { TaggedDeque } from "./deque.js";
import type { LogValue } from "./state-log.js";

/** An idempotency key whose task is no longer kept: enough to answer a repeated submission. */
export interface RememberedKey {
  /** The task first submitted with the key. */
  readonly id: string;
  /** {@link argsDigest} of its args. */
  readonly digest: string;
  /** The final state it ended in. */
  readonly state: TaskState;
  /** When the key is forgotten (the task's finish + --key-ttl). */
  readonly expiresAt: number;
}

/**
 * Idempotency keys of tasks whose records were dropped (result expired or
 * beyond --max-results) while their key TTL runs on: a few dozen bytes per
 * key instead of the task. Kept in expiry order (tasks leave the store in
 * finishing order, so expiries arrive in order), swept from the front.
 */
export class KeyIndex {
  private readonly byKey = new Map<string, RememberedKey>();
  private readonly fifo = new TaggedDeque<string>(64);

  get size(): number {
    return this.byKey.size;
  }

  /** A remembered key that has not expired. */
  get(scoped: string, now: number): RememberedKey | undefined {
    const entry = this.byKey.get(scoped);
    return entry === undefined || entry.expiresAt <= now ? undefined : entry;
  }

  set(scoped: string, entry: RememberedKey): void {
    this.byKey.set(scoped, entry);
    this.fifo.push(scoped, entry.expiresAt);
  }

  /** Forgets a key (a new task took it). */
  delete(scoped: string): boolean {
    return this.byKey.delete(scoped);
  }

  /** Forgets keys that expired by `now`; returns them (to delete their log records). */
  sweep(now: number): string[] {
    const gone: string[] = [];
    while (this.fifo.length > 0 && this.fifo.peekTag() <= now) {
      const tag = this.fifo.peekTag();
      const scoped = this.fifo.shift()!;
      const entry = this.byKey.get(scoped);
      if (entry !== undefined && entry.expiresAt === tag) {
        this.byKey.delete(scoped);
        gone.push(scoped);
      }
    }
    return gone;
  }

  /** Loads records read back from the log (any order). */
  load(records: Iterable<readonly [string, LogValue]>): void {
    const entries: [string, RememberedKey][] = [];
    for (const [scoped, value] of records) entries.push([scoped, decodeKey(value)]);
    entries.sort((a, b) => a[1].expiresAt - b[1].expiresAt);
    for (const [scoped, entry] of entries) this.set(scoped, entry);
  }
}

/** The key of a task name's idempotency key in the store's indexes and the log: keys are scoped per name. */
export function scopedKey(name: string, key: string): string {
  return `${name}\u0000${key}`;
}

/** The log value of a remembered key. */
export function encodeKey(entry: RememberedKey): LogValue {
  return [entry.id, entry.digest, entry.expiresAt, entry.state];
}

function decodeKey(value: LogValue): RememberedKey {
  const [id, digest, expiresAt, state] = value as readonly [string, string, number, TaskState];
  return { id, digest, expiresAt, state };
}

/**
 * A digest of args that is the same for the same JSON value, whatever the
 * order of object keys or the spacing: `{"a":1,"b":2}` and `{"b":2, "a":1}`
 * are the same args.
 */
export function argsDigest(argsJson: string): string {
  return createHash("sha256").update(canonicalJson(JSON.parse(argsJson) as unknown)).digest("base64url").slice(0, 22);
}

/** Whether two args texts are the same JSON value. */
export function sameArgs(a: string, b: string): boolean {
  return a === b || argsDigest(a) === argsDigest(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
