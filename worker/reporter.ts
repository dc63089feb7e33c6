import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { LogLineSchema, type AttemptOutcome, type TaskError } from "../gen/fastworker/v1/task_pb.js";
import {
  AttemptRefSchema,
  HeartbeatSchema,
  LogLinesSchema,
  ProgressUpdateSchema,
  type AttemptRef,
  type AttemptResult,
  type LogLines,
  type ProgressUpdate,
  type ReportResultsRequest,
  type ReportResultsResponse,
} from "../gen/fastworker/v1/worker_service_pb.js";
import { backoffMs, type Backoff } from "../common/backoff.js";
import { countByBytes, MAX_MESSAGE_BYTES, type ByteBudget } from "../common/split-by-bytes.js";
import { MAX_REPORT_ITEMS } from "../common/stream-limits.js";
import type { Logger } from "../common/logger.js";
import type { AttemptSink } from "./executor.js";
import { attemptKey, type RunningAttempt } from "./running-attempt.js";
import { LOG_LIMITS, logLine, utf8Bytes } from "../common/log-limits.js";
import { timestampFromMs } from "../common/time.js";

/** What the reporter needs from the worker's connection. */
export interface ReporterLink {
  /** Sends one ReportResults call for a worker session. */
  send(workerId: string, request: Omit<ReportResultsRequest, "$typeName" | "workerId" | "sessionSecret">): Promise<ReportResultsResponse>;
  /** The session the dispatch stream runs under now (heartbeats go there), if connected. */
  currentSession(): string | undefined;
  /** The heartbeat to send now (echoed ping, capacity, draining). */
  heartbeat(): MessageInitShape<typeof HeartbeatSchema>;
  /** The control plane does not know this session any more (it restarted or gave the worker up). */
  sessionGone(workerId: string): void;
  /** An earlier session has nothing left to report: its report stream can close. */
  sessionDone(workerId: string): void;
}

/** A result on the wire: its value and error text, and an allowance for the ids and numbers. */
const RESULT_BYTES: ByteBudget<AttemptResult> = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (r, text) => text(r.resultJson) + (r.error === undefined ? 0 : text(r.error.stack) + text(r.error.message)) + 64,
};
/** Log lines in one report: at most 1 MiB of them (beside results' 4 MiB); the rest waits for the next. */
const LOG_BYTES: ByteBudget<LogLines> = {
  maxBytes: MAX_MESSAGE_BYTES / 4,
  bytesOf: (l, text) => l.lines.reduce((sum, line) => sum + text(line.text) + 24, 32),
};
/** Waits between failed reports: from 50 ms up to 2 s, jittered. */
const REPORT_BACKOFF: Backoff = { initialBackoffMs: 50, maxBackoffMs: 2000 };

/** Reports a worker has unanswered at once. */
const MAX_IN_FLIGHT = 4;

/** A report sent and not yet answered. */
interface InFlight {
  session: string;
  batch: Batch;
  withHeartbeat: boolean;
}

/** The first `n` items and the rest (the same array when it all fits). */
function cut<T>(items: T[], n: number): [T[], T[]] {
  return n >= items.length ? [items, []] : [items.slice(0, n), items.slice(n)];
}

/** Items waiting to be reported for one session. */
class Batch {
  acks: RunningAttempt[] = [];
  results: AttemptResult[] = [];
  progress = new Map<string, ProgressUpdate>();
  /** New log lines per attempt (by attempt key), in the order they were written. */
  logs = new Map<string, LogLines>();
  released: AttemptRef[] = [];

  get size(): number {
    return this.acks.length + this.results.length + this.progress.size + this.logs.size + this.released.length;
  }

  /** Outcomes a lost session would drop (acks and progress matter no more). */
  get outcomes(): number {
    return this.results.length + this.released.length;
  }

  /**
   * Removes and returns what fits in one call: at most MAX_REPORT_ITEMS
   * items, acknowledgements first, and results within the byte cap; the rest
   * stays for the next.
   */
  take(): Batch {
    const taken = new Batch();
    let room = MAX_REPORT_ITEMS;
    [taken.acks, this.acks] = cut(this.acks, room);
    room -= taken.acks.length;
    const n = room === 0 ? 0 : countByBytes(this.results, 0, RESULT_BYTES, room);
    [taken.results, this.results] = cut(this.results, n);
    room -= n;
    if (this.progress.size <= room) [taken.progress, this.progress] = [this.progress, new Map()];
    else {
      for (const [key, update] of this.progress) {
        if (taken.progress.size === room) break;
        taken.progress.set(key, update);
        this.progress.delete(key);
      }
    }
    room -= taken.progress.size;
    const logs = [...this.logs.values()];
    const nLogs = room === 0 ? 0 : countByBytes(logs, 0, LOG_BYTES, room);
    for (const entry of logs.slice(0, nLogs)) {
      const key = attemptKey(entry.taskId, entry.attempt);
      taken.logs.set(key, entry);
      this.logs.delete(key);
    }
    room -= nLogs;
    [taken.released, this.released] = cut(this.released, room);
    return taken;
  }

  /** Puts a batch that could not be sent back in front of what came since. */
  putBack(older: Batch): void {
    this.acks = older.acks.concat(this.acks);
    this.results = older.results.concat(this.results);
    for (const [key, update] of this.progress) older.progress.set(key, update);
    this.progress = older.progress;
    for (const [key, newer] of this.logs) {
      const old = older.logs.get(key);
      if (old === undefined) older.logs.set(key, newer);
      else {
        old.lines.push(...newer.lines);
        old.dropped += newer.dropped;
      }
    }
    this.logs = older.logs;
    this.released = older.released.concat(this.released);
  }
}

/**
 * Batches acknowledgements, results, progress and heartbeats into reports on
 * the session's ReportResults stream: up to MAX_IN_FLIGHT unanswered at once,
 * each carrying what accumulated since the previous one (the batch grows
 * with load; a lone result goes out at once). The control plane answers a
 * report once what it changed is durable, so a few in flight keep results
 * flowing meanwhile. Reports are sent in order on one stream, which the
 * control plane relies on (an ack always precedes the heartbeat that echoes
 * a later ping).
 *
 * Outcomes are never dropped while the control plane may still want them:
 * a failed call is retried with backoff, whatever the error, until it goes
 * through. Only a session the control plane says it no longer knows
 * (NOT_FOUND) loses its items: it has re-queued those tasks already.
 */
export class Reporter implements AttemptSink {
  private readonly batches = new Map<string, Batch>();
  private heartbeatDue = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed reports since the last one that went through (or a resume): the backoff step. */
  private retries = 0;
  private failures = 0;
  private flushedWaiters: (() => void)[] = [];
  /** Reports sent and not yet answered, oldest first (their outcomes are still held). */
  private inFlight: InFlight[] = [];

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
      {
        $typeName: "fastworker.v1.AttemptResult",
        taskId: a.taskId,
        attempt: a.attempt,
        outcome,
        resultJson,
        error,
        startedAtMs: run.startedAt,
        finishedAtMs: Date.now(),
      },
    );
    this.schedule();
  }

  progress(run: RunningAttempt, fraction: number, message: string): void {
    const a = run.assignment;
    this.batch(run.session).progress.set(run.key, create(ProgressUpdateSchema, { taskId: a.taskId, attempt: a.attempt, fraction, message }));
    this.schedule();
  }

  /**
   * A line the handler logged. Bounded per attempt (common/log-limits.ts):
   * past the bounds lines are only counted, so a handler logging in a loop
   * holds no more memory here than one attempt's bound.
   */
  log(run: RunningAttempt, text: string): void {
    const a = run.assignment;
    const line = logLine(text);
    const bytes = utf8Bytes(line);
    const batch = this.batch(run.session);
    let entry = batch.logs.get(run.key);
    if (entry === undefined) batch.logs.set(run.key, (entry = create(LogLinesSchema, { taskId: a.taskId, attempt: a.attempt })));
    if (run.logDropped > 0 || run.logLines >= LOG_LIMITS.taskLines || run.logBytes + bytes > LOG_LIMITS.taskBytes) {
      run.logDropped++;
      entry.dropped++;
    } else {
      run.logLines++;
      run.logBytes += bytes;
      entry.lines.push(create(LogLineSchema, { time: timestampFromMs(Date.now()), text: line }));
    }
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

  /** The dispatch stream is (back) up: send at once, whatever the backoff said. */
  resume(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retries = 0;
    this.heartbeatDue = true;
    this.schedule();
  }

  /** Items not yet sent, over all sessions. */
  get pending(): number {
    let n = 0;
    for (const b of this.batches.values()) n += b.size;
    return n;
  }

  /** Attempts of a session whose outcome (a result or a hand-back) is not yet reported. */
  unreported(session: string): AttemptRef[] {
    const refs: AttemptRef[] = [];
    const add = (batch: Batch | undefined): void => {
      if (batch === undefined) return;
      for (const r of batch.results) refs.push(create(AttemptRefSchema, { taskId: r.taskId, attempt: r.attempt }));
      for (const r of batch.released) refs.push(r);
    };
    add(this.batches.get(session));
    for (const r of this.inFlight) if (r.session === session) add(r.batch);
    return refs;
  }

  /** Resolves once everything queued so far has been sent. */
  flushed(): Promise<void> {
    if (this.inFlight.length === 0 && this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushedWaiters.push(resolve));
  }

  /** Stops retrying (the worker is exiting). */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private batch(session: string): Batch {
    let batch = this.batches.get(session);
    if (batch === undefined) this.batches.set(session, (batch = new Batch()));
    return batch;
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer !== undefined) return;
    this.scheduled = true;
    // Microtasks: everything the current message caused goes out together, without waiting for
    // the next turn of the event loop. Two of them: a handler that returns at once, or an async
    // one that awaits nothing, settles in a promise job queued while its message was being
    // started, so before the second; its result then goes in the same report as its ack, and the
    // ack is left out (see pump). With one, every ack went in a report of its own, ahead of its
    // result (measured: 120,000 acks sent for 120,000 noop tasks; with two, none).
    queueMicrotask(() =>
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      }),
    );
  }

  /**
   * Sends reports while something is due and fewer than MAX_IN_FLIGHT are
   * unanswered. Each report carries what accumulated since the one before;
   * several in flight keep results flowing while the control plane makes the
   * earlier ones durable before answering.
   */
  private pump(): void {
    while (this.inFlight.length < MAX_IN_FLIGHT && this.retryTimer === undefined) {
      const current = this.link.currentSession();
      const session = this.nextSession(current);
      if (session === undefined) break;
      const batch = this.batch(session).take();
      // A heartbeat proves the dispatch stream delivered everything before its ping: it goes only
      // with the last of the acknowledgements (more than MAX_REPORT_ITEMS take several reports).
      const withHeartbeat = session === current && this.batch(session).acks.length === 0;
      if (withHeartbeat) this.heartbeatDue = false;
      // An ack may be left out when its attempt's outcome (a result or a hand-back) is sent no later
      // than this report. That holds only if this report carries every queued outcome: when they
      // were split over several reports, one still waiting must keep its ack here, because this
      // report's heartbeat proves delivery and an unacknowledged attempt would be given up.
      const waiting = this.batch(session);
      const allOutcomes = waiting.results.length === 0 && waiting.released.length === 0;
      const request = {
        acks: batch.acks
          .filter((run) => !(allOutcomes && run.reported))
          .map((run): AttemptRef => ({ $typeName: "fastworker.v1.AttemptRef", taskId: run.assignment.taskId, attempt: run.assignment.attempt })),
        results: batch.results,
        progress: [...batch.progress.values()],
        logs: [...batch.logs.values()],
        released: batch.released,
        heartbeat: withHeartbeat ? create(HeartbeatSchema, this.link.heartbeat()) : undefined,
      };
      const report: InFlight = { session, batch, withHeartbeat };
      this.inFlight.push(report);
      this.link.send(session, request).then(
        (response) => this.answered(report, response),
        (err: unknown) => this.failed(report, ConnectError.from(err)),
      );
    }
    if (this.inFlight.length === 0 && this.pending === 0) this.notifyFlushed();
  }

  private answered(report: InFlight, response: ReportResultsResponse): void {
    const index = this.inFlight.indexOf(report);
    if (index >= 0) this.inFlight.splice(index, 1);
    this.sent();
    for (const item of response.rejected) {
      this.logger.debug({ taskId: item.taskId, attempt: item.attempt, reason: item.status?.message }, "control plane rejected a report item");
    }
    this.schedule();
  }

  /**
   * A report failed: its stream broke, so every report of that session still
   * in flight failed with it. They all go back, in their order, in front of
   * what accumulated since, and are sent again after a backoff; only a
   * session the control plane no longer knows (NOT_FOUND) drops its items.
   */
  private failed(report: InFlight, err: ConnectError): void {
    if (!this.inFlight.includes(report)) return; // handled with an earlier report of its session
    const lost = this.inFlight.filter((r) => r.session === report.session);
    this.inFlight = this.inFlight.filter((r) => r.session !== report.session);
    if (err.code === Code.NotFound) {
      this.sessionGone(report.session, lost.map((r) => r.batch));
      this.schedule();
      return;
    }
    // Newest first, each in front of the rest: the oldest ends up first.
    for (const r of lost.reverse()) {
      this.batch(r.session).putBack(r.batch);
      if (r.withHeartbeat) this.heartbeatDue = true;
    }
    if (this.retryTimer === undefined) this.retryLater(err);
  }

  /** The session to report for next: the current one first; undefined when nothing is due. */
  private nextSession(current: string | undefined): string | undefined {
    if (current !== undefined && (this.heartbeatDue || (this.batches.get(current)?.size ?? 0) > 0)) return current;
    for (const [session, batch] of this.batches) {
      if (batch.size > 0) return session;
      if (session !== current) {
        this.batches.delete(session);
        this.link.sessionDone(session);
      }
    }
    return undefined;
  }

  private sessionGone(session: string, sent: Batch[]): void {
    const dropped = sent.reduce((n, b) => n + b.outcomes, 0) + (this.batches.get(session)?.outcomes ?? 0);
    this.batches.delete(session);
    if (dropped > 0) {
      this.logger.warn({ workerId: session, dropped }, `the control plane no longer knows this worker session; ${dropped} outcomes dropped (it re-queued those tasks)`);
    }
    this.link.sessionGone(session);
  }

  private sent(): void {
    if (this.failures > 0) this.logger.info(`reports go through again after ${this.failures} failed attempts`);
    this.failures = 0;
    this.retries = 0;
  }

  private retryLater(err: ConnectError): void {
    this.failures++;
    const wait = Math.round(backoffMs(REPORT_BACKOFF, ++this.retries));
    const level = this.failures === 1 || this.failures % 20 === 0 ? "warn" : "debug";
    this.logger[level]({ code: Code[err.code], pending: this.pending }, `report failed (${err.rawMessage}); keeping every outcome and retrying in ${wait} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, wait);
  }

  private notifyFlushed(): void {
    const waiters = this.flushedWaiters;
    this.flushedWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
