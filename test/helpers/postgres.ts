import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { postgresBinDir } from "../../bench/lib/executables.js";
import { freePort } from "../../bench/lib/free-port.js";

/** A PostgreSQL server a test started in a temporary directory, on 127.0.0.1 and a free port. */
export interface TestPostgres {
  /** postgres://… for a fresh database of its own (see {@link TestPostgres.database}). */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Creates an empty database and answers its URL (one per test keeps tests apart). */
  database(name: string): Promise<string>;
  /** Runs one statement as the superuser on the `postgres` database. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Stops the server (by its pid) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL from Debian's binaries: initdb into a temp
 * directory, then `postgres` listening only on 127.0.0.1 at a free port, its
 * socket in the same directory, fsync off (test data needs no durability;
 * the control plane's own fsyncs still happen). As root (CI), the server runs
 * as the `postgres` user, since PostgreSQL refuses to run as root. Stopped by
 * pid; never a system service.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("PostgreSQL's binaries are missing: apt-get install postgresql");
  const dir = mkdtempSync(join(tmpdir(), "fw-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (file: string, args: string[]): string[] => (asRoot ? ["runuser", "-u", "postgres", "--", file, ...args] : [file, ...args]);
  if (asRoot) chownSync(dir, uidOf("postgres"), gidOf("postgres"));
  const [initdb, ...initArgs] = run(`${bin}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  execFileSync(initdb!, initArgs, { stdio: "pipe" });
  const port = await freePort();
  const [postgres, ...args] = run(`${bin}/postgres`, [
    "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100",
  ]);
  const child: ChildProcess = spawn(postgres!, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = once(child, "exit");
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntilUp(url, () => log, exited);
  const query = async (sql: string, params?: unknown[]): Promise<pg.QueryResult> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  return {
    url,
    port,
    pid: child.pid!,
    async database(name) {
      await query(`CREATE DATABASE "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    query,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, "SIGINT"); // fast shutdown
        const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilUp(url: string, log: () => string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    if (gone) throw new Error(`PostgreSQL exited while starting:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 30 s:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}
