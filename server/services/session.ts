import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { ErrorStatusSchema } from "../../gen/fastworker/v1/task_pb.js";
import {
  SessionAcceptedSchema,
  SessionResponseSchema,
  TaskOutcomeSchema,
  type SessionAccepted,
  type SessionRequest,
  type SessionResponse,
  type TaskOutcome,
} from "../../gen/fastworker/v1/task_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { MAX_MESSAGE_BYTES, splitByBytes, type ByteBudget } from "../../common/split-by-bytes.js";
import { MAX_SESSION_FOLLOWS, MAX_SESSION_SUBMITS } from "../../common/stream-limits.js";
import { isFinalState } from "../../common/task-state.js";
import type { ControlPlane, SubmitOutcome } from "../engine/control-plane.js";
import type { TaskRecord } from "../store/task-record.js";
import { taskOutcome } from "../engine/task-view.js";
import { validateSubmit, validateTaskId } from "../engine/validate.js";
import type { TaskWaiter } from "../engine/waiters.js";
import { unreadBound } from "./stream-bounds.js";

/** An outcome on the wire: its result and error text, and an allowance for the id and numbers. */
const OUTCOME_BYTES: ByteBudget<TaskOutcome> = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (o, text) =>
    text(o.resultJson) +
    (o.error === undefined ? 0 : text(o.error.stack) + text(o.error.message)) +
    (o.lookupError === undefined ? 0 : text(o.lookupError.message)) +
    64,
};

/** A response's size for the unread bound: its texts (UTF-16 units) and an allowance per item. */
function responseSize(response: SessionResponse): number {
  let bytes = 16 + response.accepted.length * 32;
  for (const o of response.outcomes) bytes += OUTCOME_BYTES.bytesOf(o, (text) => text.length);
  return bytes;
}

/** Submissions and follows a stream applies before the event loop gets a turn. */
const YIELD_EVERY = 10_000;

/** Resolves on the next turn of the event loop (after pending I/O). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One client's Session stream: submissions in, acceptances and the outcomes
 * of followed tasks out. Whatever becomes ready in one turn of the event
 * loop goes out in one message (several when it would be large). After the
 * client half-closes, the stream ends once every followed task is final.
 */
export class SessionStream implements TaskWaiter {
  readonly out: AsyncQueue<SessionResponse>;
  private accepted: SessionAccepted[] = [];
  private outcomes: TaskOutcome[] = [];
  /** Ids of unfinished tasks this stream waits for (to unregister them if it closes first). */
  private readonly followed = new Set<string>();
  private flushing = false;
  /** Acceptances waiting for their submissions to be durable (undefined when nothing waits). */
  private sending: Promise<void> | undefined;
  private inputDone = false;
  private closed = false;

  constructor(
    private readonly plane: ControlPlane,
    ctx: HandlerContext,
  ) {
    ctx.signal.addEventListener("abort", () => this.close());
    this.out = new AsyncQueue({
      bound: unreadBound("Session", plane.config.maxPayloadBytes, responseSize, "read it as it comes (the client library does, and follows its tasks again)"),
    });
    // A stream cut off for not reading stops following its tasks at once.
    this.out.closedSignal.addEventListener("abort", () => this.close());
  }

  /**
   * Reads the request stream until it ends (or fails). The event loop gets
   * a turn after every YIELD_EVERY items, so a client sending as fast as it
   * can never holds up heartbeats and results (the transport stops reading
   * its connection meanwhile).
   */
  async consume(requests: AsyncIterable<SessionRequest>): Promise<void> {
    try {
      let items = 0;
      for await (const request of requests) {
        this.receive(request, Date.now());
        items += request.submits.length + request.follow.length;
        if (items >= YIELD_EVERY) {
          items = 0;
          await nextTurn();
          if (this.closed) return;
        }
      }
      this.inputDone = true;
      this.schedule();
    } catch (err) {
      if (this.closed) return; // the call was cancelled: nothing left to answer
      // A ConnectError keeps its status; anything else is a bug, which the transport logs and answers INTERNAL.
      this.out.fail(err);
    }
  }

  /** Applies one request: submissions (each accepted or refused on its own), then follows. */
  receive(request: SessionRequest, now: number): void {
    // One message must not create millions of tasks (or hold the event loop for seconds): the stream ends.
    if (request.submits.length > MAX_SESSION_SUBMITS) {
      throw new ConnectError(`a Session message carries at most ${MAX_SESSION_SUBMITS} submissions (got ${request.submits.length}); send them in several messages (the client library does)`, Code.ResourceExhausted);
    }
    if (request.follow.length > MAX_SESSION_FOLLOWS) {
      throw new ConnectError(`a Session message follows at most ${MAX_SESSION_FOLLOWS} tasks (got ${request.follow.length}); send them in several messages (the client library does)`, Code.ResourceExhausted);
    }
    const maxPayload = this.plane.config.maxPayloadBytes;
    for (const submit of request.submits) {
      if (submit.task === undefined) {
        this.refuse(submit.ref, new ConnectError("a submission without a task", Code.InvalidArgument));
        continue;
      }
      let outcome: SubmitOutcome;
      try {
        outcome = this.plane.submit(validateSubmit(submit.task, maxPayload), now);
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err; // a bug, not bad input: the stream fails INTERNAL (logged)
        this.refuse(submit.ref, err);
        continue;
      }
      const { id, task, deduplicated } = outcome;
      this.accepted.push({ $typeName: "fastworker.v1.SessionAccepted", ref: submit.ref, id, deduplicated, error: undefined });
      if (!submit.follow) continue;
      if (task !== undefined) this.follow(task);
      else this.lookupFailed(id, Code.NotFound, `task ${id}, which this idempotency key names, finished and its result is no longer kept`);
    }
    for (const id of request.follow) {
      let task: TaskRecord | undefined;
      try {
        task = this.plane.store.get(validateTaskId(id), now);
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err;
        this.lookupFailed(id, err.code, err.rawMessage); // one bad id must not take the session down
        continue;
      }
      if (task === undefined) this.lookupFailed(id, Code.NotFound, `no task ${JSON.stringify(id)}: unknown id, or its result expired`);
      else this.follow(task);
    }
    this.schedule();
  }

  taskFinished(task: TaskRecord): void {
    this.followed.delete(task.id);
    if (this.closed) return;
    this.outcomes.push(taskOutcome(task));
    this.schedule();
  }

  private follow(task: TaskRecord): void {
    if (isFinalState(task.state)) {
      this.outcomes.push(taskOutcome(task));
      return;
    }
    if (this.followed.has(task.id)) return;
    this.followed.add(task.id);
    this.plane.waiters.add(task.id, this);
  }

  private lookupFailed(id: string, code: Code, message: string): void {
    this.outcomes.push(create(TaskOutcomeSchema, { id, lookupError: create(ErrorStatusSchema, { code, message }) }));
  }

  private refuse(ref: number, err: ConnectError): void {
    this.accepted.push(create(SessionAcceptedSchema, { ref, error: create(ErrorStatusSchema, { code: err.code, message: err.rawMessage }) }));
  }

  private schedule(): void {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    if (this.closed) return;
    const { accepted, outcomes } = this;
    this.accepted = [];
    this.outcomes = [];
    if (accepted.length === 0 && this.sending === undefined) {
      this.send(accepted, outcomes); // outcomes are durable already (waiters hear after the commit)
      this.closeIfDone();
      return;
    }
    // Acknowledged = on disk: acceptances go out once their submissions are durable, in order.
    this.sending = (this.sending ?? Promise.resolve())
      .then(() => (accepted.length > 0 ? this.plane.durable() : undefined))
      .then(
        () => this.send(accepted, outcomes),
        (err: unknown) => {
          if (!this.closed) this.out.fail(err);
        },
      );
    const sending = this.sending;
    void sending.then(() => {
      if (this.sending !== sending) return;
      this.sending = undefined;
      this.closeIfDone();
    });
  }

  /** Pushes acceptances and outcomes: one message, or several when they would be large. */
  private send(accepted: SessionAccepted[], outcomes: TaskOutcome[]): void {
    if (this.closed) return;
    if (accepted.length > 0 || outcomes.length > 0) {
      const chunks = splitByBytes(outcomes, OUTCOME_BYTES);
      for (let i = 0; i < chunks.length; i++) {
        this.out.push(create(SessionResponseSchema, { accepted: i === 0 ? accepted : [], outcomes: chunks[i]! }));
      }
    }
  }

  /** After the client half-closed: ends the stream once nothing is left to answer. */
  private closeIfDone(): void {
    if (this.inputDone && this.followed.size === 0 && this.sending === undefined && !this.closed) this.out.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of this.followed) this.plane.waiters.remove(id, this);
    this.followed.clear();
    this.out.close();
  }
}
