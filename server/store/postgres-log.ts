import type pg from "pg";
import type { Collection, LogValue, LogWrite, StateLog } from "./state-log.js";

/** Rows read per query when loading a collection. */
const LOAD_PAGE = 10_000;

/**
 * The store's log in PostgreSQL: one table, `fw_records (collection, key,
 * value)`, values as JSON text (plain data, so JSON is exact). A batch is one
 * SQL statement (so one transaction and one round trip): an upsert of the
 * batch's puts and a delete of its removals, both guarded by the leader's
 * fencing term. If another control plane took over (the term in
 * `fw_leader` moved on), the statement writes nothing and write() fails:
 * a deposed leader never acknowledges again. Durable when PostgreSQL commits
 * (with its default `synchronous_commit = on`, the WAL is flushed).
 *
 * Runs on the leader's own connection (see `server/ha/leadership.ts`): the
 * session that holds the leadership lock is the one that writes.
 */
export class PostgresLog implements StateLog {
  readonly description: string;

  constructor(
    private readonly client: pg.Client,
    /** The fencing term this control plane leads under. */
    private readonly term: number,
    where: string,
  ) {
    this.description = `postgresql at ${where}`;
  }

  async *load(collection: Collection): AsyncIterable<readonly [string, LogValue]> {
    let after = "";
    for (;;) {
      const { rows } = await this.client.query<{ key: string; value: string }>(
        "SELECT key, value FROM fw_records WHERE collection = $1 AND key > $2 ORDER BY key LIMIT $3",
        [collection, after, LOAD_PAGE],
      );
      for (const row of rows) yield [decodeKey(row.key), JSON.parse(row.value) as LogValue] as const;
      if (rows.length < LOAD_PAGE) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  async write(batch: readonly LogWrite[]): Promise<void> {
    if (batch.length === 0) return;
    // The last write of each record wins (one statement cannot touch a row twice).
    const last = new Map<string, LogWrite>();
    for (const w of batch) last.set(`${w.collection}\u0000${w.key}`, w);
    const put = { collections: [] as string[], keys: [] as string[], values: [] as string[] };
    const removed = { collections: [] as string[], keys: [] as string[] };
    for (const w of last.values()) {
      if (w.value === undefined) {
        removed.collections.push(w.collection);
        removed.keys.push(encodeKey(w.key));
      } else {
        put.collections.push(w.collection);
        put.keys.push(encodeKey(w.key));
        put.values.push(JSON.stringify(w.value));
      }
    }
    const { rows } = await this.client.query<{ leading: boolean }>(WRITE_BATCH, [
      this.term, put.collections, put.keys, put.values, removed.collections, removed.keys,
    ]);
    if (rows[0]?.leading !== true) {
      throw new Error(`another control plane leads now (this one led under term ${this.term}); nothing was written`);
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the leadership, which ends it.
  }
}

/**
 * Keys as PostgreSQL text, which cannot hold NUL (the store's composite keys
 * use it as a separator): backslash escapes, reversed when reading back.
 */
function encodeKey(key: string): string {
  return key.includes("\\") || key.includes("\u0000") ? key.replace(/\\/g, "\\\\").replace(/\u0000/g, "\\0") : key;
}

function decodeKey(stored: string): string {
  return stored.includes("\\") ? stored.replace(/\\(\\|0)/g, (_, c: string) => (c === "0" ? "\u0000" : "\\")) : stored;
}

/**
 * One batch, as one statement: the term check takes a share lock on the
 * leader row, so a takeover (which updates that row) and a batch of the
 * deposed leader cannot interleave; the data-modifying parts run only while
 * the term is still this leader's.
 */
const WRITE_BATCH = `
WITH leader AS (
  SELECT term FROM fw_leader WHERE id = 1 AND term = $1 FOR SHARE
), upserted AS (
  INSERT INTO fw_records (collection, key, value)
  SELECT c, k, v FROM unnest($2::text[], $3::text[], $4::text[]) AS p(c, k, v)
  WHERE EXISTS (SELECT 1 FROM leader)
  ON CONFLICT (collection, key) DO UPDATE SET value = EXCLUDED.value
  RETURNING 1
), deleted AS (
  DELETE FROM fw_records r
  USING unnest($5::text[], $6::text[]) AS d(c, k)
  WHERE r.collection = d.c AND r.key = d.k AND EXISTS (SELECT 1 FROM leader)
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM leader) AS leading,
  (SELECT count(*) FROM upserted) AS upserted,
  (SELECT count(*) FROM deleted) AS deleted`;
