import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskOutcome, TaskService } from "../gen/fastworker/v1/task_service_pb.js";
import type { BidiCall, ServiceClient } from "./grpc-client.js";
import type { WaitTasksRequestSchema, WaitTasksResponseSchema } from "../gen/fastworker/v1/task_service_pb.js";

interface Waiting {
  promise: Promise<TaskOutcome>;
  resolve(outcome: TaskOutcome): void;
  reject(err: unknown): void;
  /** Callers still interested; the id is unfollowed when the last one gives up. */
  callers: number;
}

const IDLE_CLOSE_MS = 2000;
const MAX_REOPENS = 10;

/**
 * Waits for many tasks over one WaitTasks stream. Ids asked for in the same
 * turn go out in one message; outcomes come back batched. The stream opens
 * on first use, closes after a quiet moment, and is reopened (re-sending
 * every id still waited for) if it breaks.
 */
export class OutcomeWaiter {
  private readonly waiting = new Map<string, Waiting>();
  private call: BidiCall<typeof WaitTasksRequestSchema, typeof WaitTasksResponseSchema> | undefined;
  private unsent: string[] = [];
  private scheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private reopens = 0;
  private closed = false;

  constructor(private readonly tasks: () => ServiceClient<typeof TaskService>) {}

  /** Resolves with the task's outcome once it is final. */
  wait(id: string): Promise<TaskOutcome> {
    if (this.closed) return Promise.reject(new ConnectError("the client is closed", Code.Canceled));
    const existing = this.waiting.get(id);
    if (existing !== undefined) {
      existing.callers++;
      return existing.promise;
    }
    let resolve!: (o: TaskOutcome) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<TaskOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiting.set(id, { promise, resolve, reject, callers: 1 });
    clearTimeout(this.idleTimer);
    this.unsent.push(id);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.sendUnsent());
    }
    return promise;
  }

  /** One caller stops waiting for an id (it gave up); others waiting for the same id keep waiting. */
  forget(id: string): void {
    const w = this.waiting.get(id);
    if (w === undefined || --w.callers > 0) return;
    this.waiting.delete(id);
    this.closeIfIdle();
  }

  /** Ends the stream; pending waits fail with CANCELED. */
  close(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.call?.cancel();
    this.call = undefined;
    const err = new ConnectError("the client was closed while waiting", Code.Canceled);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  private sendUnsent(): void {
    this.scheduled = false;
    if (this.unsent.length === 0 || this.closed) return;
    const ids = this.unsent.filter((id) => this.waiting.has(id));
    this.unsent = [];
    if (ids.length === 0) return;
    if (this.call === undefined) this.open();
    this.call!.send({ ids });
  }

  private open(): void {
    const call = this.tasks().waitTasks();
    this.call = call;
    void (async () => {
      try {
        for await (const response of call.responses) {
          this.reopens = 0;
          for (const outcome of response.outcomes) this.settle(outcome);
          this.closeIfIdle();
        }
        this.ended(call, undefined);
      } catch (err) {
        this.ended(call, err);
      }
    })();
  }

  private settle(outcome: TaskOutcome): void {
    const w = this.waiting.get(outcome.id);
    if (w === undefined) return;
    this.waiting.delete(outcome.id);
    if (outcome.lookupError !== undefined) w.reject(new ConnectError(outcome.lookupError.message, outcome.lookupError.code as Code));
    else w.resolve(outcome);
  }

  private ended(call: BidiCall<typeof WaitTasksRequestSchema, typeof WaitTasksResponseSchema>, err: unknown): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closed || this.waiting.size === 0) return;
    if (++this.reopens > MAX_REOPENS) {
      const failure = err ? ConnectError.from(err) : new ConnectError("the result stream kept closing", Code.Unavailable);
      for (const w of this.waiting.values()) w.reject(failure);
      this.waiting.clear();
      return;
    }
    // Re-follow everything still waited for on a new stream, after a short pause.
    const delay = Math.min(2000, 50 * 2 ** this.reopens);
    setTimeout(() => {
      this.unsent.push(...this.waiting.keys());
      this.sendUnsent();
    }, delay).unref();
  }

  private closeIfIdle(): void {
    if (this.waiting.size > 0 || this.call === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.waiting.size > 0) return;
      // Cancel, not end(): after a half-close the finished stream kept its HTTP/2 stream open, so a
      // later close() left a socket that held the process alive until the control plane went away.
      this.call?.cancel();
      this.call = undefined;
    }, IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }
}
