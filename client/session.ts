import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type {
  SessionAccepted,
  SessionRequestSchema,
  SessionResponseSchema,
  SubmitRequestSchema,
  TaskOutcome,
  TaskService,
} from "../gen/fastworker/v1/task_service_pb.js";
import { backoffMs, type Backoff } from "../common/backoff.js";
import { countByBytes, mapBytes, MAX_MESSAGE_BYTES, type ByteBudget, type TextBytes } from "../common/split-by-bytes.js";
import { certainlyNotCarriedOut } from "../common/discovery/leader-hint.js";
import { MAX_SESSION_FOLLOWS, MAX_SESSION_SUBMITS } from "../common/stream-limits.js";
import type { BidiCall, ServiceClient } from "../common/transport/grpc-client.js";

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;
type Call = BidiCall<typeof SessionRequestSchema, typeof SessionResponseSchema>;

/** Limits of a {@link ClientSession}. */
export interface SessionLimits {
  /** Bytes of submissions per stream message (default 4 MiB). */
  maxMessageBytes: number;
  /** Submissions sent and not yet accepted; more wait (default 10,000). */
  maxUnaccepted: number;
  /** How long the stream stays open with nothing to wait for before it closes (default 2 s; it reopens on use). */
  idleCloseMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = Object.freeze({ maxMessageBytes: MAX_MESSAGE_BYTES, maxUnaccepted: 10_000, idleCloseMs: 2000 });

/** What a submission resolves to: its acceptance, and its outcome when it was followed. */
export interface Submitted {
  accepted: SessionAccepted;
  outcome: FollowedOutcome | undefined;
}

/**
 * A followed task's outcome: on its way, arrived, or failed (the session
 * broke, or the control plane does not know the id). The promise is made only
 * when someone waits, so a followed submission nobody waits for (fire and
 * forget) costs no promise, and its failure is no unhandled rejection
 * (see Client.submit for what this saves).
 */
export class FollowedOutcome {
  /** Callers still waiting; the last one to give up unfollows. */
  callers = 1;
  private arrived: TaskOutcome | undefined;
  private failure: { err: unknown } | undefined;
  private promise: Promise<TaskOutcome> | undefined;
  private resolveWait: ((outcome: TaskOutcome) => void) | undefined;
  private rejectWait: ((err: unknown) => void) | undefined;

  /** The outcome, once it arrived. */
  get outcome(): TaskOutcome | undefined {
    return this.arrived;
  }

  /** Resolves with the outcome once it is final; rejects if the wait failed. The same promise for every call. */
  wait(): Promise<TaskOutcome> {
    if (this.promise !== undefined) return this.promise;
    if (this.arrived !== undefined) this.promise = Promise.resolve(this.arrived);
    else if (this.failure !== undefined) this.promise = Promise.reject(this.failure.err);
    else {
      this.promise = new Promise((resolve, reject) => {
        this.resolveWait = resolve;
        this.rejectWait = reject;
      });
    }
    return this.promise;
  }

  resolve(outcome: TaskOutcome): void {
    if (this.arrived !== undefined || this.failure !== undefined) return;
    this.arrived = outcome;
    this.resolveWait?.(outcome);
  }

  reject(err: unknown): void {
    if (this.arrived !== undefined || this.failure !== undefined) return;
    this.failure = { err };
    this.rejectWait?.(err);
  }
}

interface PendingSubmit {
  ref: number;
  request: SubmitInit;
  follow: boolean;
  resolve(submitted: Submitted): void;
  reject(err: unknown): void;
}

const MAX_REOPENS = 10;

/** A submission on the wire: its args, name, key and metadata, and an allowance for the rest. */
function submitBytes(p: PendingSubmit, text: TextBytes): number {
  const r = p.request;
  return text(r.argsJson ?? "") + text(r.task ?? "") + text(r.idempotencyKey ?? "") + mapBytes(r.metadata, text) + 64;
}
/** Waits before reopening a broken stream: from 100 ms up to 2 s, jittered. */
const REOPEN_BACKOFF: Backoff = { initialBackoffMs: 100, maxBackoffMs: 2000 };

/**
 * The client's Session stream to the control plane: submissions go out
 * batched (whatever is submitted in one turn of the event loop travels in one
 * message), acceptances and outcomes come back batched. A submission can be
 * followed from the start, so its outcome is pushed the moment it is final.
 *
 * The stream opens on first use and closes after a quiet moment. If it
 * breaks, followed tasks are followed again on a new stream; submissions not
 * yet accepted are sent again only when they carry an idempotency key (the
 * control plane may already have taken them), the others fail with
 * UNAVAILABLE so the caller decides.
 */
export class ClientSession {
  private call: Call | undefined;
  private queue: PendingSubmit[] = [];
  private readonly unaccepted = new Map<number, PendingSubmit>();
  private readonly following = new Map<string, FollowedOutcome>();
  private toFollow: string[] = [];
  private nextRef = 1;
  private scheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private reopens = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  /** Whether the current stream has delivered anything (then a break may have cut accepted work). */
  private answered = false;
  private closed = false;
  private readonly budget: ByteBudget<PendingSubmit>;

  constructor(
    /** The TaskService of the control plane to open the stream on (asked again at every reopen). */
    private readonly tasks: () => ServiceClient<typeof TaskService>,
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    /** Told when the stream broke (so the next reopen can go to another control plane of a group). */
    private readonly onBroken: (err: ConnectError) => void = () => undefined,
  ) {
    this.budget = { maxBytes: limits.maxMessageBytes, bytesOf: submitBytes };
  }

  /** Queues a submission; resolves once the control plane accepted or refused it. */
  submit(request: SubmitInit, follow: boolean): Promise<Submitted> {
    if (this.closed) return Promise.reject(new ConnectError("the client is closed", Code.Canceled));
    return new Promise((resolve, reject) => {
      this.queue.push({ ref: 0, request, follow, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves with a task's outcome once it is final. */
  follow(id: string): Promise<TaskOutcome> {
    if (this.closed) return Promise.reject(new ConnectError("the client is closed", Code.Canceled));
    if (id.length === 0 || id.length > 200) {
      return Promise.reject(new ConnectError(`${JSON.stringify(id.slice(0, 40))} is not a task id`, Code.InvalidArgument));
    }
    const existing = this.following.get(id);
    if (existing !== undefined) {
      existing.callers++;
      return existing.wait();
    }
    const entry = this.startFollowing(id);
    this.toFollow.push(id);
    this.schedule();
    return entry.wait();
  }

  /** One caller stops waiting for an id; others waiting for it keep waiting. */
  unfollow(id: string): void {
    const entry = this.following.get(id);
    if (entry === undefined || --entry.callers > 0) return;
    this.following.delete(id);
    this.closeIfIdle();
  }

  /** Ends the stream; everything pending fails with CANCELED. */
  close(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.reopenTimer);
    this.call?.cancel();
    this.call = undefined;
    this.failAll(new ConnectError("the client was closed", Code.Canceled));
  }

  private startFollowing(id: string): FollowedOutcome {
    const entry = new FollowedOutcome();
    this.following.set(id, entry);
    clearTimeout(this.idleTimer);
    return entry;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    clearTimeout(this.idleTimer);
    queueMicrotask(() => {
      this.scheduled = false;
      this.send();
    });
  }

  /** Sends what is queued, in messages of at most maxMessageBytes, while acceptances are not too far behind. */
  private send(): void {
    if (this.closed) return;
    if (this.queue.length === 0 && this.toFollow.length === 0) return;
    const call = (this.call ??= this.open());
    if (this.toFollow.length > 0) {
      const ids = this.toFollow.filter((id) => this.following.has(id));
      this.toFollow = [];
      for (let i = 0; i < ids.length; i += MAX_SESSION_FOLLOWS) call.send({ follow: ids.slice(i, i + MAX_SESSION_FOLLOWS) });
    }
    while (this.queue.length > 0 && this.unaccepted.size < this.limits.maxUnaccepted) {
      const room = Math.min(MAX_SESSION_SUBMITS, this.limits.maxUnaccepted - this.unaccepted.size);
      const count = countByBytes(this.queue, 0, this.budget, room);
      const batch = this.queue.splice(0, count);
      for (const p of batch) {
        p.ref = this.nextRef++;
        if (this.nextRef > 0xffffffff) this.nextRef = 1;
        this.unaccepted.set(p.ref, p);
      }
      call.send({ submits: batch.map((p) => ({ ref: p.ref, task: p.request, follow: p.follow })) });
    }
  }

  private open(): Call {
    const call = this.tasks().session();
    this.answered = false;
    void (async () => {
      try {
        for await (const response of call.responses) {
          this.reopens = 0;
          this.answered = true;
          for (const accepted of response.accepted) this.accepted(accepted);
          for (const outcome of response.outcomes) this.settle(outcome);
          if (this.queue.length > 0) this.schedule();
          this.closeIfIdle();
        }
        this.ended(call, undefined);
      } catch (err) {
        this.ended(call, err);
      }
    })();
    return call;
  }

  private accepted(accepted: SessionAccepted): void {
    const pending = this.unaccepted.get(accepted.ref);
    if (pending === undefined) return;
    this.unaccepted.delete(accepted.ref);
    if (accepted.error !== undefined) {
      pending.reject(new ConnectError(accepted.error.message, accepted.error.code as Code));
      return;
    }
    let outcome: FollowedOutcome | undefined;
    if (pending.follow) {
      const existing = this.following.get(accepted.id);
      if (existing !== undefined) existing.callers++;
      outcome = existing ?? this.startFollowing(accepted.id);
    }
    pending.resolve({ accepted, outcome });
  }

  private settle(outcome: TaskOutcome): void {
    const entry = this.following.get(outcome.id);
    if (entry === undefined) return;
    this.following.delete(outcome.id);
    if (outcome.lookupError !== undefined) entry.reject(new ConnectError(outcome.lookupError.message, outcome.lookupError.code as Code));
    else entry.resolve(outcome);
  }

  private ended(call: Call, err: unknown): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closed) return;
    const failure = err ? ConnectError.from(err) : new ConnectError("the control plane ended the session", Code.Unavailable);
    this.onBroken(failure);
    if (failure.code === Code.Unauthenticated || failure.code === Code.PermissionDenied) {
      // Refused before anything was taken; trying again cannot help.
      this.failAll(failure);
      return;
    }
    // Submissions the control plane may or may not have taken: only those with an idempotency key are safe
    // to send again, unless the stream certainly did nothing (refused by a control plane not serving, e.g. a
    // standby of a group; or never connected): then every one goes again, to the next address.
    const untouched = !this.answered && certainlyNotCarriedOut(failure.rawMessage);
    const requeue: PendingSubmit[] = [];
    for (const p of this.unaccepted.values()) {
      if (untouched || p.request.idempotencyKey) requeue.push(p);
      else p.reject(new ConnectError(`the session broke before the control plane confirmed this submission (${failure.rawMessage}); it may or may not have been taken: submit with an idempotency key to retry safely`, Code.Unavailable));
    }
    this.unaccepted.clear();
    this.queue = requeue.concat(this.queue);
    if (this.queue.length === 0 && this.following.size === 0) return;
    if (++this.reopens > MAX_REOPENS) {
      this.failAll(failure);
      return;
    }
    const delay = backoffMs(REOPEN_BACKOFF, this.reopens);
    // Not unref'd: callers wait on what it will send again, and a process must not exit under them
    // (the reopens are bounded, so it cannot keep a process alive for long).
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      this.toFollow = [...this.following.keys()];
      this.schedule();
    }, delay);
  }

  private failAll(err: ConnectError): void {
    for (const p of [...this.queue, ...this.unaccepted.values()]) p.reject(err);
    this.queue = [];
    this.unaccepted.clear();
    for (const f of this.following.values()) f.reject(err);
    this.following.clear();
  }

  private closeIfIdle(): void {
    if (this.call === undefined || this.queue.length > 0 || this.unaccepted.size > 0 || this.following.size > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.queue.length > 0 || this.unaccepted.size > 0 || this.following.size > 0) return;
      // Cancel, not half-close: the control plane may still follow tasks this client gave up
      // waiting for, and a half-closed call it keeps open would keep this process from exiting.
      this.call?.cancel();
      this.call = undefined;
    }, this.limits.idleCloseMs);
    this.idleTimer.unref();
  }
}
