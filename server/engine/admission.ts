import { Code, ConnectError } from "@connectrpc/connect";
import { formatBytes } from "../../common/format-bytes.js";
import type { TaskStore } from "../store/task-store.js";

/** The bounds of the backlog: tasks waiting to run (QUEUED and SCHEDULED). */
export interface AdmissionLimits {
  /** The most waiting tasks (--max-queued). */
  maxQueued: number;
  /** The most UTF-8 bytes of args of waiting tasks (--max-queued-bytes). */
  maxQueuedBytes: number;
}

/**
 * Admission control: a submission (or a RetryTask) that would take the
 * backlog past its bounds is refused with RESOURCE_EXHAUSTED, so a burst of
 * submissions slows its producers down instead of growing the control
 * plane's memory until it dies. Running and finished tasks do not count:
 * workers' concurrency bounds the one, --max-results the other.
 */
export class Admission {
  constructor(
    private readonly limits: AdmissionLimits,
    private readonly store: TaskStore,
  ) {}

  /** Throws RESOURCE_EXHAUSTED when one more waiting task with these args does not fit. */
  admit(argsJson: string): void {
    const { tasks, bytes } = this.store.backlog();
    const { maxQueued, maxQueuedBytes } = this.limits;
    if (tasks >= maxQueued) {
      throw new ConnectError(
        `the control plane holds ${tasks} queued and scheduled tasks, its limit (fw-server --max-queued ${maxQueued}); retry later, add workers, or raise the limit`,
        Code.ResourceExhausted,
      );
    }
    // Exact bytes only near the limit: UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (bytes + argsJson.length * 3 <= maxQueuedBytes) return;
    const size = Buffer.byteLength(argsJson, "utf8");
    if (bytes + size > maxQueuedBytes) {
      throw new ConnectError(
        `the args of queued and scheduled tasks take ${formatBytes(bytes)}; this task's ${formatBytes(size)} would pass the limit of ${formatBytes(maxQueuedBytes)} (fw-server --max-queued-bytes); retry later, add workers, or pass a reference to large data`,
        Code.ResourceExhausted,
      );
    }
  }

  /** Throws RESOURCE_EXHAUSTED unless `count` more waiting tasks with `bytes` of args in all fit: a bulk retry is all or nothing. */
  admitMany(count: number, bytes: number): void {
    const backlog = this.store.backlog();
    const { maxQueued, maxQueuedBytes } = this.limits;
    if (backlog.tasks + count > maxQueued) {
      throw new ConnectError(
        `the control plane holds ${backlog.tasks} queued and scheduled tasks; ${count} more would pass its limit (fw-server --max-queued ${maxQueued}); retry fewer at a time, or later`,
        Code.ResourceExhausted,
      );
    }
    if (backlog.bytes + bytes > maxQueuedBytes) {
      throw new ConnectError(
        `the args of queued and scheduled tasks take ${formatBytes(backlog.bytes)}; ${count} more tasks with ${formatBytes(bytes)} would pass the limit of ${formatBytes(maxQueuedBytes)} (fw-server --max-queued-bytes); retry fewer at a time, or later`,
        Code.ResourceExhausted,
      );
    }
  }
}
