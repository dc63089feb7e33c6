import { Worker as Thread } from "node:worker_threads";
import type { FromThread, ThreadError, ThreadJob, ToThread } from "./thread-protocol.js";

/** One attempt running in a thread. */
export interface ThreadRun {
  /** Resolves with the handler's return value; rejects with its error. */
  readonly result: Promise<unknown>;
  /** Aborts the handler's signal inside the thread. */
  abort(reason: Error): void;
  /** Stops the thread at once, whatever the handler is doing (the run rejects). */
  terminate(): void;
}

const ENTRY = new URL("./thread-entry.js", import.meta.url);
const IDLE_MS = 30_000;

/**
 * Threads for tasks defined with `isolation: "thread"`: one attempt per
 * thread at a time, idle threads kept for reuse for a while. A thread whose
 * handler will not stop is terminated and replaced, which is the point: a
 * CPU-bound handler that ignores its signal can be stopped for real.
 */
export class ThreadPool {
  private readonly idle: { thread: Thread; timer: NodeJS.Timeout }[] = [];
  private readonly busy = new Set<Thread>();

  /** @param onThreadError hears errors a thread raises outside any run (they must not crash the worker). */
  constructor(private readonly onThreadError: (err: Error) => void) {}

  /** Runs a job; `onProgress` and `onLog` receive the handler's progress reports and log lines. */
  run(job: ThreadJob, onProgress: (fraction: number, message: string) => void, onLog: (text: string) => void): ThreadRun {
    const thread = this.take();
    this.busy.add(thread);
    let settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
    const result = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
    let done = false;
    const finish = (ok: boolean, value: unknown, reusable: boolean): void => {
      if (done) return;
      done = true;
      thread.off("message", onMessage);
      thread.off("error", onError);
      thread.off("exit", onExit);
      this.busy.delete(thread);
      if (reusable) this.park(thread);
      if (ok) settle.resolve(value);
      else settle.reject(value);
    };
    const onMessage = (message: FromThread): void => {
      if (message.type === "progress") onProgress(message.fraction, message.message);
      else if (message.type === "log") onLog(message.text);
      else if (message.ok) finish(true, message.value, true);
      else finish(false, toError(message.error), true);
    };
    const onError = (err: Error): void => finish(false, err, false);
    const onExit = (code: number): void => finish(false, new Error(`the task thread exited (code ${code})`), false);
    thread.on("message", onMessage);
    thread.on("error", onError);
    thread.on("exit", onExit);
    thread.postMessage({ type: "run", job } satisfies ToThread);
    return {
      result,
      abort: (reason) => {
        if (!done) thread.postMessage({ type: "abort", reason: { name: reason.name, message: reason.message, stack: "" } } satisfies ToThread);
      },
      terminate: () => {
        if (done) return;
        finish(false, new Error("the task thread was terminated"), false);
        void thread.terminate();
      },
    };
  }

  /** Terminates every thread. */
  async close(): Promise<void> {
    const threads = [...this.busy, ...this.idle.map((i) => i.thread)];
    for (const { timer } of this.idle) clearTimeout(timer);
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(threads.map((t) => t.terminate()));
  }

  private take(): Thread {
    const parked = this.idle.pop();
    if (parked !== undefined) {
      clearTimeout(parked.timer);
      parked.thread.ref();
      return parked.thread;
    }
    const thread = new Thread(ENTRY);
    // Permanent listeners: an error after a run settled (e.g. a stray rejection) is reported, never
    // fatal to the worker; a thread that exits is never handed out again.
    thread.on("error", (err) => {
      if (!this.busy.has(thread)) this.onThreadError(err);
    });
    thread.on("exit", () => {
      const i = this.idle.findIndex((entry) => entry.thread === thread);
      if (i >= 0) {
        clearTimeout(this.idle[i]!.timer);
        this.idle.splice(i, 1);
      }
    });
    return thread;
  }

  private park(thread: Thread): void {
    const entry = {
      thread,
      timer: setTimeout(() => {
        const i = this.idle.indexOf(entry);
        if (i >= 0) this.idle.splice(i, 1);
        void thread.terminate();
      }, IDLE_MS),
    };
    entry.timer.unref();
    thread.unref();
    this.idle.push(entry);
  }
}

function toError(e: ThreadError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  err.stack = e.stack;
  return err;
}
