import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AttemptOutcome, TaskError } from "../gen/fastworker/v1/task_pb.js";
import {
  AttemptRefSchema,
  AttemptResultSchema,
  HeartbeatSchema,
  ProgressUpdateSchema,
  type AttemptRef,
  type AttemptResult,
  type ProgressUpdate,
  type ReportResultsRequest,
  type ReportResultsResponse,
} from "../gen/fastworker/v1/worker_service_pb.js";
import type { Logger } from "../common/logger.js";
import type { AttemptSink } from "./executor.js";
import type { RunningAttempt } from "./running-attempt.js";

/** What the reporter needs from the worker's connection. */
export interface ReporterLink {
  /** Sends one ReportResults call for a worker session. */
  send(workerId: string, request: Omit<ReportResultsRequest, "$typeName" | "workerId">): Promise<ReportResultsResponse>;
  /** The session the dispatch stream runs under now (heartbeats go there), if connected. */
  currentSession(): string | undefined;
  /** The heartbeat to send now (echoed ping, capacity, draining). */
  heartbeat(): MessageInitShape<typeof HeartbeatSchema>;
  /** The control plane does not know this session any more (it restarted or gave the worker up). */
  sessionGone(workerId: string): void;
}

class Batch {
  acks: RunningAttempt[] = [];
  results: AttemptResult[] = [];
  progress = new Map<string, ProgressUpdate>();
  released: AttemptRef[] = [];

  get empty(): boolean {
    return this.acks.length === 0 && this.results.length === 0 && this.progress.size === 0 && this.released.length === 0;
  }

  /** Puts a batch that could not be sent in front of what came since. */
  prepend(older: Batch): void {
    this.acks = older.acks.concat(this.acks);
    this.results = older.results.concat(this.results);
    for (const [key, update] of this.progress) older.progress.set(key, update);
    this.progress = older.progress;
    this.released = older.released.concat(this.released);
  }
}

/**
 * Batches acknowledgements, results, progress and heartbeats into
 * ReportResults calls: one call at a time, carrying everything that
 * accumulated while the previous one was in flight (so the batch grows with
 * load and a lone result goes out at once). Reports are sent in order, which
 * the control plane relies on (an ack always precedes the heartbeat that
 * echoes a later ping). Nothing is dropped while the control plane is
 * unreachable: items wait for resume().
 */
export class Reporter implements AttemptSink {
  private readonly batches = new Map<string, Batch>();
  private heartbeatDue = false;
  private sending = false;
  private scheduled = false;
  private paused = false;
  private flushedWaiters: (() => void)[] = [];

  constructor(
    private readonly link: ReporterLink,
    private readonly logger: Logger,
  ) {}

  ack(run: RunningAttempt): void {
    this.batch(run.session).acks.push(run);
    this.schedule();
  }

  finish(run: RunningAttempt, outcome: AttemptOutcome, resultJson: string, error: TaskError | undefined): void {
    const a = run.assignment;
    this.batch(run.session).results.push(
      create(AttemptResultSchema, {
        taskId: a.taskId,
        attempt: a.attempt,
        outcome,
        resultJson,
        error,
        startedAtMs: run.startedAt,
        finishedAtMs: Date.now(),
      }),
    );
    this.schedule();
  }

  progress(run: RunningAttempt, fraction: number, message: string): void {
    const a = run.assignment;
    this.batch(run.session).progress.set(run.key, create(ProgressUpdateSchema, { taskId: a.taskId, attempt: a.attempt, fraction, message }));
    this.schedule();
  }

  release(run: RunningAttempt): void {
    this.batch(run.session).released.push(create(AttemptRefSchema, { taskId: run.assignment.taskId, attempt: run.assignment.attempt }));
    this.schedule();
  }

  heartbeatSoon(): void {
    this.heartbeatDue = true;
    this.schedule();
  }

  /** Sending stopped after a connection failure; call once connected again. */
  resume(): void {
    this.paused = false;
    this.heartbeatDue = true;
    this.schedule();
  }

  /** Items not yet sent, over all sessions. */
  get pending(): number {
    let n = 0;
    for (const b of this.batches.values()) n += b.acks.length + b.results.length + b.progress.size + b.released.length;
    return n;
  }

  /** Resolves once everything queued so far was sent (or could not be). */
  flushed(): Promise<void> {
    if (!this.sending && !this.scheduled && (this.pending === 0 || this.paused)) return Promise.resolve();
    return new Promise((resolve) => this.flushedWaiters.push(resolve));
  }

  private batch(session: string): Batch {
    let batch = this.batches.get(session);
    if (batch === undefined) this.batches.set(session, (batch = new Batch()));
    return batch;
  }

  private schedule(): void {
    if (this.scheduled || this.sending || this.paused) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (!this.paused) {
        const current = this.link.currentSession();
        const session = this.nextSession(current);
        if (session === undefined) break;
        const withHeartbeat = session === current;
        if (withHeartbeat) this.heartbeatDue = false;
        const batch = this.batches.get(session) ?? new Batch();
        this.batches.set(session, new Batch());
        const request = {
          acks: batch.acks
            .filter((run) => !run.reported)
            .map((run) => create(AttemptRefSchema, { taskId: run.assignment.taskId, attempt: run.assignment.attempt })),
          results: batch.results,
          progress: [...batch.progress.values()],
          released: batch.released,
          heartbeat: withHeartbeat ? create(HeartbeatSchema, this.link.heartbeat()) : undefined,
        };
        try {
          const response = await this.link.send(session, request);
          for (const item of response.rejected) {
            this.logger.debug({ taskId: item.taskId, attempt: item.attempt, reason: item.status?.message }, "control plane rejected a report item");
          }
        } catch (err) {
          this.failed(session, batch, ConnectError.from(err));
        }
      }
    } finally {
      this.sending = false;
      if (!this.paused && this.nextSession(this.link.currentSession()) !== undefined) this.schedule();
      else this.notifyFlushed();
    }
  }

  /** The session to report for next: the current one first; undefined when nothing is due. */
  private nextSession(current: string | undefined): string | undefined {
    if (current !== undefined && (this.heartbeatDue || !(this.batches.get(current)?.empty ?? true))) return current;
    for (const [session, batch] of this.batches) {
      if (!batch.empty) return session;
      if (session !== current) this.batches.delete(session);
    }
    return undefined;
  }

  private failed(session: string, batch: Batch, err: ConnectError): void {
    if (err.code === Code.NotFound) {
      const dropped = batch.results.length + batch.released.length;
      this.batches.delete(session);
      if (dropped > 0) {
        this.logger.warn({ workerId: session, dropped }, `the control plane no longer knows this worker session; ${dropped} outcomes dropped (it re-queued those tasks)`);
      }
      this.link.sessionGone(session);
      return;
    }
    if (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied || err.code === Code.InvalidArgument) {
      this.logger.error({ err: err.rawMessage }, "the control plane refused a report; its items are dropped");
      return;
    }
    // Unreachable or restarting: keep everything and wait for the connection to come back.
    this.batch(session).prepend(batch);
    this.paused = true;
    this.heartbeatDue = true;
    this.logger.debug({ err: err.rawMessage }, "report failed; holding results until the connection is back");
  }

  private notifyFlushed(): void {
    const waiters = this.flushedWaiters;
    this.flushedWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
