import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child } from "../lib/child.js";
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
 * Starts redis-server on 127.0.0.1 and a free port, configured as BullMQ
 * asks (noeviction) and, like fastworker's in-memory store, without
 * persistence (no RDB snapshots, no AOF), so neither system writes to disk.
 */
export async function startRedisServer(options: { readyTimeoutMs?: number } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "fw-bench-redis-"));
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
        "--save", "",
        "--appendonly", "no",
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
