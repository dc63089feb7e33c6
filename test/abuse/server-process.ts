import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * An fw-server process for the abuse suite (which also runs outside vitest,
 * so it does not use test/helpers/processes.ts): the real binary from dist/,
 * on loopback and port 0, with a fresh data directory, beacons off.
 */
export class ServerProcess {
  readonly grpc: string;
  readonly http: string;
  readonly logLines: string[] = [];
  private readonly waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    ready: string,
  ) {
    this.grpc = /grpc=(\S+)/.exec(ready)![1]!;
    this.http = /http=(\S+)/.exec(ready)![1]!;
  }

  static async start(args: readonly string[]): Promise<ServerProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), "fw-abuse-"));
    const child = spawn(
      process.execPath,
      [join(ROOT, "dist/bin/fw-server.js"), "--port", "0", "--http-port", "0", "--no-discovery", "--data-dir", dataDir, ...args],
      { cwd: ROOT, env: { ...cleanEnv(), FW_LOG_FORMAT: "json" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines: string[] = [];
    const stderr = createInterface({ input: child.stderr! });
    stderr.on("line", (line) => lines.push(line));
    const ready = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fw-server did not get ready within 30 s:\n${lines.slice(-20).join("\n")}`)), 30_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("fw-server ready ")) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.once("exit", (code) => reject(new Error(`fw-server exited (${code}) before it was ready:\n${lines.slice(-20).join("\n")}`)));
    });
    const server = new ServerProcess(child, dataDir, ready);
    server.logLines.push(...lines);
    stderr.removeAllListeners("line");
    stderr.on("line", (line) => server.receive(line));
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory now and its peak so far (Linux /proc), in bytes. */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), peak: kb("VmHWM") };
  }

  /** Resolves with the first log line (past or future) containing every one of `texts`; rejects after `timeoutMs`. */
  waitForLog(texts: string | string[], timeoutMs = 30_000): Promise<string> {
    const all = typeof texts === "string" ? [texts] : texts;
    const test = (line: string): boolean => all.every((text) => line.includes(text));
    const seen = this.logLines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no log line with ${JSON.stringify(all)} within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Log lines at error level or worse (an abuse run should cause none). */
  errors(): string[] {
    return this.logLines.filter((line) => /"level":(50|60)/.test(line));
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 15 s) and removes the data directory. */
  async stop(): Promise<number | null> {
    if (this.running) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
      await once(this.child, "exit");
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
    return this.child.exitCode;
  }

  private receive(line: string): void {
    this.logLines.push(line);
    if (this.logLines.length > 20_000) this.logLines.splice(0, 10_000);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("FW_")) delete env[key];
  return env;
}
