import type pg from "pg";

/**
 * The schema fw-server keeps in PostgreSQL, as numbered migrations. Each runs
 * once, in order, inside one transaction that holds a transaction-level
 * advisory lock: several control planes starting at once on one database
 * migrate it exactly once (the others wait, then find it done).
 */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      -- The store's records (tasks, args, worker sessions, definitions, metadata), values as JSON.
      CREATE TABLE fw_records (
        collection text NOT NULL,
        key text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (collection, key)
      );
      -- Who leads: the fencing term (raised by every takeover) and where the leader listens.
      CREATE TABLE fw_leader (
        id int PRIMARY KEY CHECK (id = 1),
        term bigint NOT NULL,
        holder text NOT NULL,
        grpc text NOT NULL,
        http text NOT NULL,
        since timestamptz NOT NULL
      );
      INSERT INTO fw_leader VALUES (1, 0, '', '', '', now());`,
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Lock id for migrations (pg_advisory_xact_lock): "fw" "mi" "gr". */
const MIGRATION_LOCK = 0x66776d69677200n;

/** Brings the database to SCHEMA_VERSION; answers the versions it applied (none when another process did). */
export async function migrate(client: pg.Client): Promise<number[]> {
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
    await client.query("CREATE TABLE IF NOT EXISTS fw_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM fw_migrations");
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`the database's schema is version ${current}, newer than this fw-server knows (${SCHEMA_VERSION}): upgrade fw-server`);
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO fw_migrations (version) VALUES ($1)", [migration.version]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined); // the original error says what went wrong
    throw err;
  }
  return applied;
}
