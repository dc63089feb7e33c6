import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { Child } from "../lib/child.js";
import { freshDir, type DataRoot } from "../lib/data-root.js";
import { freePort } from "../lib/free-port.js";
import { repoPath } from "../lib/paths.js";

const REDIS_BIN = "/usr/bin/redis-server";

/**
 * Makes sure Debian's redis-server is installed, with the project's own
 * script (apt-get as root, or a message saying what to run), and answers its
 * version, e.g. "7.0.15".
 */
export function ensureRedisServer(): string {
  execFileSync(process.execPath, [repoPath("scripts/ensure-debian-packages.mjs"), "redis-server"], { stdio: ["ignore", "inherit", "inherit"] });
  const banner = execFileSync(REDIS_BIN, ["--version"], { encoding: "utf8" });
  return /v=(\S+)/.exec(banner)?.[1] ?? banner.trim();
}

/** A redis-server the harness started. */
export interface RedisServer {
  port: number;
  child: Child;
  stop(): Promise<void>;
}

/**
 * What Redis writes to disk. `none`: no RDB snapshots, no AOF, like
 * fastworker `--in-memory`. `aof-everysec`: the append-only file, fsync'd
 * once a second by a background thread (Redis's recommended durable setting;
 * a crash loses up to about a second of acknowledged writes), the peer of
 * fastworker's durable stores. RDB snapshots stay off in both.
 */
export type RedisPersistence = "none" | "aof-everysec";

/** The redis-server arguments of each persistence setting. */
export const REDIS_PERSISTENCE_ARGS: Record<RedisPersistence, readonly string[]> = {
  none: ["--save", "", "--appendonly", "no"],
  "aof-everysec": ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
};

/** Options for {@link startRedisServer}. */
export interface RedisOptions {
  persistence: RedisPersistence;
  /** Where its working directory (and AOF) goes: a fresh directory under it, removed on stop. */
  dataRoot: DataRoot;
  readyTimeoutMs?: number;
}

/**
 * Starts redis-server on 127.0.0.1 and a free port, configured as BullMQ
 * asks (noeviction), with the given persistence.
 */
export async function startRedisServer(options: RedisOptions): Promise<RedisServer> {
  const dir = freshDir(options.dataRoot, "fw-bench-redis");
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = Child.start({
      name: "redis-server",
      command: REDIS_BIN,
      args: [
        "--bind", "127.0.0.1",
        "--port", String(port),
        "--protected-mode", "yes",
        ...REDIS_PERSISTENCE_ARGS[options.persistence],
        "--maxmemory-policy", "noeviction",
        "--dir", dir,
        "--logfile", "",
        "--daemonize", "no",
      ],
    });
    try {
      await child.waitForLine(/Ready to accept connections/, options.readyTimeoutMs ?? 15_000);
      return {
        port,
        child,
        stop: async () => {
          await child.stop({ signal: "SIGTERM", graceMs: 10_000 });
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err; // most likely the port was taken in between: try another
      await child.stop({ graceMs: 2000 });
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}
