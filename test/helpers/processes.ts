import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// What users run: the package's bin entries (fw-server and fw-worker set up OpenTelemetry first).
const BIN = (JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { bin: Record<string, string> }).bin;
const CLI = (name: string): string => `${ROOT}${BIN[name]}`;

/** A process a test started; stop() and the afterEach hook end it by its pid. */
export class Proc {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lineWaiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = once(child, "close").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const watch = (stream: NodeJS.ReadableStream | null, lines: string[]): void => {
      if (stream === null) return;
      createInterface({ input: stream }).on("line", (line) => {
        lines.push(line);
        for (const waiter of [...this.lineWaiters]) {
          if (waiter.test(line)) {
            this.lineWaiters.splice(this.lineWaiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      });
    };
    watch(child.stdout, this.stdout);
    watch(child.stderr, this.stderr);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first output line (stdout or stderr, past or future) matching `pattern`. */
  waitForLine(pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
    const test = (line: string): boolean => (typeof pattern === "string" ? line.includes(pattern) : pattern.test(line));
    const seen = [...this.stdout, ...this.stderr].find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs / 1000}s\n${this.output(40)}`));
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const remove = (): void => {
        const i = this.lineWaiters.indexOf(waiter);
        if (i >= 0) this.lineWaiters.splice(i, 1);
      };
      this.lineWaiters.push(waiter);
      void this.exited.then(({ code, signal }) => {
        // Let the last lines drain through readline first.
        setImmediate(() => {
          if (!this.lineWaiters.includes(waiter)) return;
          remove();
          clearTimeout(timer);
          reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before printing ${pattern}\n${this.output(40)}`));
        });
      });
    });
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) process.kill(this.pid, signal);
    return this.exited;
  }

  /** What the process printed (the last `lines` of stderr), for failure messages. */
  output(lines = 200): string {
    return `--- ${this.name} stdout ---\n${this.stdout.join("\n")}\n--- ${this.name} stderr ---\n${this.stderr.slice(-lines).join("\n")}`;
  }
}

const started = new Set<Proc>();

/** Data directories tempDataDir() made; removed after each test, once its processes ended. */
const dataDirs: string[] = [];

afterEach(async () => {
  // End every process the test started (by its pid), harder if it does not go.
  const procs = [...started];
  started.clear();
  await Promise.all(
    procs.map(async (p) => {
      if (!p.running) return;
      process.kill(p.pid, "SIGTERM");
      const timer = setTimeout(() => p.running && process.kill(p.pid, "SIGKILL"), 10_000);
      await p.exited;
      clearTimeout(timer);
    }),
  );
  // Then the data directories their control planes used.
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Options for {@link spawnCommand}. */
export interface SpawnOptions {
  /** Run inside this network namespace (`ip netns exec`, which execs: the pid is node's). */
  netns?: string;
}

/** Spawns a command as package.json `bin` gives it (`node dist/bin/fw-server.js args…`) with JSON logs. */
export function spawnCommand(command: "fw-server" | "fw-worker" | "fw", args: readonly string[], env: NodeJS.ProcessEnv = {}, options: SpawnOptions = {}): Proc {
  const argv = [process.execPath, CLI(command), ...args];
  const [file, ...rest] = options.netns === undefined ? argv : ["ip", "netns", "exec", options.netns, ...argv];
  const child = spawn(file!, rest, {
    cwd: ROOT,
    env: { ...cleanEnv(), FW_LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proc = new Proc(command, child);
  started.add(proc);
  return proc;
}

/** Spawns `node script args…` (a test fixture), ended after the test like the others. */
export function spawnNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const proc = new Proc(script, child);
  started.add(proc);
  return proc;
}

/** A running control plane with the addresses from its ready line. */
export interface ServerProc extends Proc {
  grpc: string;
  http: string;
  /** Its data directory ("memory" with --in-memory). */
  state: string;
}


/** A fresh temporary data directory, removed after the test. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "fw-data-"));
  dataDirs.push(dir);
  return dir;
}

/**
 * Starts fw-server on free ports (unless given) and waits for its ready line.
 * Beacons are off unless the test names a --beacon-port (its own free one),
 * and never leave loopback: bound elsewhere, they go to 127.255.255.255
 * unless the test says where (network rule: no beacons to the LAN).
 * Without --data-dir or --in-memory it gets a fresh temporary data directory
 * (durable, as fw-server is by default), never the repository's.
 */
export async function startServer(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}, options: SpawnOptions = {}): Promise<ServerProc> {
  const ports = [...(args.includes("--port") ? [] : ["--port", "0"]), ...(args.includes("--http-port") ? [] : ["--http-port", "0"])];
  const host = args.includes("--host") ? args[args.indexOf("--host") + 1]! : "127.0.0.1";
  const loopback = host.startsWith("127.") || host === "::1";
  // Inside a network namespace the test made, beacons go wherever the defaults send them.
  const beacons =
    options.netns !== undefined ? [] : !args.includes("--beacon-port") ? ["--no-discovery"] : loopback || args.includes("--beacon-addr") ? [] : ["--beacon-addr", "127.255.255.255"];
  const state = args.includes("--data-dir") || args.includes("--in-memory") || args.includes("--store") ? [] : ["--data-dir", tempDataDir()];
  const proc = spawnCommand("fw-server", [...ports, ...beacons, ...state, ...args], env, options) as ServerProc;
  const line = await proc.waitForLine(/^fw-server ready /);
  proc.grpc = /grpc=(\S+)/.exec(line)![1]!;
  proc.http = /http=(\S+)/.exec(line)![1]!;
  proc.state = /state=(\S+)/.exec(line)![1]!;
  return proc;
}

/** Starts fw-worker against a control plane (null: found by beacon) and waits until its dispatch stream is open. */
export async function startWorker(server: string | null, args: readonly string[], env: NodeJS.ProcessEnv = {}, options: SpawnOptions = {}): Promise<Proc> {
  const proc = spawnCommand("fw-worker", [...(server === null ? [] : ["--server", server]), ...args], env, options);
  await proc.waitForLine(/^fw-worker ready /);
  return proc;
}

/** Runs the `fw` CLI to completion. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCommand("fw", args, env, options);
  const { code } = await proc.exited;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: proc.stdout.join("\n"), stderr: proc.stderr.join("\n") };
}

/** Runs any command (e.g. buf) to completion. */
export async function run(command: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: ROOT, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  const proc = new Proc(command, child);
  started.add(proc);
  const { code } = await proc.exited;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: proc.stdout.join("\n"), stderr: proc.stderr.join("\n") };
}

/** The environment without FW_* settings from the developer's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("FW_")) delete env[key];
  return env;
}

/**
 * Polls `check` until it returns something other than undefined; fails after
 * `timeoutMs`. For state that has no event to wait on (e.g. a result expiring).
 */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      expect.fail(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
