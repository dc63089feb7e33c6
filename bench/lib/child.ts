import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** Options for {@link Child.start}. */
export interface ChildOptions {
  /** Shown in errors, e.g. "fw-server" or "redis-server". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Open a Node IPC channel (the child must be a Node process). */
  ipc?: boolean;
  /** Run as this user and group (PostgreSQL refuses root); the pid is then the program's own, so stop() reaches it. */
  uid?: number;
  gid?: number;
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const KEEP_LINES = 200;
const live = new Set<Child>();

/**
 * A process the harness started. It is ended by its pid only (SIGTERM, then
 * SIGKILL after a grace period), every wait on it is bounded, and its last
 * output lines are kept for error messages.
 */
export class Child {
  readonly exited: Promise<Exit>;
  private readonly lines: string[] = [];
  private readonly lineWaiters = new Set<(line: unknown) => void>();
  private readonly messageWaiters = new Set<(message: unknown) => void>();
  private readonly messages: unknown[] = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = once(child, "close").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    void this.exited.then(() => live.delete(this));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on("line", (line) => this.onLine(line));
    }
    child.on("message", (message) => {
      this.messages.push(message);
      for (const waiter of [...this.messageWaiters]) waiter(message);
    });
  }

  /** Starts a process; it is tracked so {@link stopAll} can end it. */
  static start(options: ChildOptions): Child {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    const proc = new Child(options.name, child);
    live.add(proc);
    child.on("error", (err) => proc.onLine(`spawn error: ${err.message}`));
    return proc;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start (no pid)`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first output line (past or future) that matches. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return this.waitFor(`a line matching ${pattern}`, timeoutMs, this.lineWaiters, (line) => (pattern.test(line as string) ? (line as string) : undefined));
  }

  /** Resolves with the first IPC message (past or future) that `pick` accepts. */
  waitForMessage<T>(what: string, pick: (message: unknown) => T | undefined, timeoutMs: number): Promise<T> {
    for (const message of this.messages) {
      const picked = pick(message);
      if (picked !== undefined) return Promise.resolve(picked);
    }
    return this.waitFor(what, timeoutMs, this.messageWaiters, pick);
  }

  /** Sends an IPC message. */
  send(message: unknown): void {
    if (!this.child.send) throw new Error(`${this.name} has no IPC channel`);
    this.child.send(message as object);
  }

  /** Ends the process by its pid: `signal`, then SIGKILL after `graceMs`. */
  async stop(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<Exit> {
    if (this.running) {
      try {
        process.kill(this.pid, options.signal ?? "SIGTERM");
      } catch {
        // Already gone between the check and the kill.
      }
      const timer = setTimeout(() => {
        if (this.running) process.kill(this.pid, "SIGKILL");
      }, options.graceMs ?? 10_000);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }

  /** The last lines the process printed, for error messages. */
  output(lines = 40): string {
    return `--- ${this.name} (pid ${this.child.pid}) last output ---\n${this.lines.slice(-lines).join("\n")}`;
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEEP_LINES) this.lines.shift();
    for (const waiter of [...this.lineWaiters]) waiter(line);
  }

  private waitFor<T>(what: string, timeoutMs: number, waiters: Set<(value: unknown) => void>, pick: (value: unknown) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      const waiter = (value: unknown): void => {
        const picked = pick(value);
        if (picked === undefined) return;
        done();
        resolve(picked);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs / 1000}s\n${this.output()}`));
      }, timeoutMs);
      waiters.add(waiter);
      void this.exited.then((exit) => {
        // Let the last lines and messages drain first.
        setTimeout(() => {
          if (!waiters.has(waiter)) return;
          done();
          reject(new Error(`${this.name} exited (code ${exit.code}, signal ${exit.signal}) before ${what}\n${this.output()}`));
        }, 50);
      });
    });
  }
}

/** Ends every process the harness started that still runs (by pid), in parallel. */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop({ graceMs })));
}

/** Pids of processes the harness started that still run (for a last-resort cleanup on exit). */
export function livePids(): number[] {
  return [...live].filter((p) => p.running).map((p) => p.pid);
}
