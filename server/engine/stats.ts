import { create } from "@bufbuild/protobuf";
import { QueueDepthSchema, StatsSchema, type Stats } from "../../gen/fastworker/v1/admin_service_pb.js";
import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import { VERSION } from "../../common/version.js";
import { durationFromMs, timestampFromMs } from "../../common/time.js";
import { RateWindow } from "./rate-window.js";
import type { StateCounts } from "../store/store.js";

/** Counters since the control plane started. Plain fields: incremented inline on the hot path. */
export class StatsCounters {
  submitted = 0;
  succeeded = 0;
  failed = 0;
  cancelled = 0;
  retried = 0;
  lateResults = 0;
  leaseExpiries = 0;
  /** Assignments workers confirmed receiving: an ack, or a result that came first (for metrics). */
  acked = 0;
  readonly finished = new RateWindow(10);
  readonly failedRecently = new RateWindow(10);
  readonly startedAt = Date.now();
}

/** The Stats message for counters and current state counts. */
export function statsMessage(counters: StatsCounters, counts: StateCounts, workers: number, now: number): Stats {
  // Both rates from one window of counts, over the time it covers (not a nominal 10 s).
  const finished = counters.finished.total(now);
  const failed = counters.failedRecently.total(now);
  const windowMs = counters.finished.span(now);
  const q = counts.queued;
  return create(StatsSchema, {
    queued: create(QueueDepthSchema, {
      critical: BigInt(q[Priority.CRITICAL]!),
      high: BigInt(q[Priority.HIGH]!),
      normal: BigInt(q[Priority.NORMAL]!),
      low: BigInt(q[Priority.LOW]!),
    }),
    scheduled: BigInt(counts.scheduled),
    running: BigInt(counts.running),
    succeeded: BigInt(counts.succeeded),
    failed: BigInt(counts.failed),
    cancelled: BigInt(counts.cancelled),
    submittedTotal: BigInt(counters.submitted),
    succeededTotal: BigInt(counters.succeeded),
    failedTotal: BigInt(counters.failed),
    cancelledTotal: BigInt(counters.cancelled),
    retriedTotal: BigInt(counters.retried),
    lateResultsTotal: BigInt(counters.lateResults),
    leaseExpiriesTotal: BigInt(counters.leaseExpiries),
    throughput: (finished * 1000) / windowMs,
    failureRate: finished === 0 ? 0 : failed / finished,
    recentFinished: BigInt(finished),
    recentFailed: BigInt(failed),
    recentWindow: durationFromMs(windowMs),
    workers,
    startedAt: timestampFromMs(counters.startedAt),
    version: VERSION,
    time: timestampFromMs(now),
  });
}
