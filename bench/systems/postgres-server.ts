import { execFileSync } from "node:child_process";
import { chownSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { Child } from "../lib/child.js";
import { freshDir, type DataRoot } from "../lib/data-root.js";
import { postgresBinDir } from "../lib/executables.js";
import { freePort } from "../lib/free-port.js";

/** PostgreSQL's settings that decide what a commit costs; recorded in the results file. */
const RECORDED_SETTINGS = ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_wal_size"];

/** A PostgreSQL server the harness started for the fastworker-pg runs. */
export interface PostgresServer {
  /** e.g. "15.18". */
  readonly version: string;
  /** {@link RECORDED_SETTINGS} as the server reports them (durability on: PostgreSQL's defaults). */
  readonly settings: Record<string, string>;
  /** The postmaster; its children are the backends, WAL writer, checkpointer… */
  readonly child: Child;
  /** Creates an empty database for one run; `drop()` removes it and checkpoints, so runs start alike. */
  database(): Promise<{ url: string; drop(): Promise<void> }>;
  /** Fast shutdown by pid, then removes the cluster's directory. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL cluster under the data root: `initdb`, then
 * `postgres` listening only on 127.0.0.1 at a free port with its socket in
 * its own directory. PostgreSQL's durability stays as shipped (fsync,
 * synchronous_commit and full_page_writes on), unlike the test helper's:
 * this is the fair peer of an fsync'ing fw-server and Redis with AOF. As
 * root, both run as the `postgres` user (PostgreSQL refuses root), set by
 * spawn itself rather than through runuser, so the pid the harness holds is
 * the postmaster's and stopping it by pid reaches it. Never a system service.
 */
export async function startPostgres(root: DataRoot): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("PostgreSQL's server binaries are missing (/usr/lib/postgresql/<major>/bin): apt-get install postgresql");
  const dir = freshDir(root, "fw-bench-pg");
  const data = join(dir, "data");
  const user = process.getuid?.() === 0 ? { uid: idOf("-u"), gid: idOf("-g") } : {};
  try {
    if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
    try {
      execFileSync(`${bin}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], { stdio: "pipe", ...user });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(`initdb failed in ${data} (the postgres user must be able to reach the data root): ${stderr || (err as Error).message}`);
    }
    const { child, port } = await listen(bin, data, dir, user);
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const query = async (sql: string): Promise<pg.QueryResult> => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        return await client.query(sql);
      } finally {
        await client.end();
      }
    };
    const settings: Record<string, string> = {};
    for (const name of RECORDED_SETTINGS) settings[name] = String((await query(`SHOW ${name}`)).rows[0]?.[name]);
    const version = String((await query("SHOW server_version")).rows[0]?.server_version).split(" ")[0]!;
    let databases = 0;
    return {
      version,
      settings,
      child,
      async database() {
        const name = `bench_${++databases}`;
        await query(`CREATE DATABASE ${name}`);
        return {
          url: `postgres://postgres@127.0.0.1:${port}/${name}`,
          async drop() {
            await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            await query("CHECKPOINT");
          },
        };
      },
      async stop() {
        await child.stop({ signal: "SIGINT", graceMs: 15_000 }); // SIGINT: PostgreSQL's fast shutdown
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts the postmaster on a free port (another try if the port was taken meanwhile). */
async function listen(bin: string, data: string, socketDir: string, user: { uid?: number; gid?: number }): Promise<{ child: Child; port: number }> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = Child.start({
      name: "postgres",
      command: `${bin}/postgres`,
      args: ["-D", data, "-p", String(port), "-k", socketDir, "-c", "listen_addresses=127.0.0.1"],
      ...user,
    });
    try {
      await child.waitForLine(/database system is ready to accept connections/, 30_000);
      return { child, port };
    } catch (err) {
      lastError = err;
      await child.stop({ signal: "SIGINT", graceMs: 5000 });
    }
  }
  throw lastError;
}

function idOf(flag: "-u" | "-g"): number {
  return Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
}
