import type { AttemptInfo, TaskInfo } from "./task-info.js";

/**
 * Short labels for a task's attempts and progress, shared by `fw status` and
 * the dashboard so both say the same thing. Browser-safe: no Node imports.
 */

/**
 * Finished tasks fewer than this make a failure rate too uncertain to read:
 * the dashboard greys it and `fw stats` says so.
 */
export const FEW_TO_TELL = 20;

/** How many lost attempts in a row fail a task (the control plane's default `maxLosses`). */
const MAX_LOSSES = 5;

/** One series of attempts: the first run of a task, or one started by RetryTask. */
export interface AttemptSeries {
  /** 1 for the first series, 2 after the first RetryTask, … */
  number: number;
  attempts: AttemptInfo[];
}

/** Where a task stands in its current series of attempts. */
export interface AttemptSummary {
  /** The current series' number (1 unless the task was retried with RetryTask). */
  series: number;
  /** Attempts of the current series that count toward max attempts (lost and handed-back ones do not). */
  attempt: number;
  maxAttempts: number;
  /** Attempts of the current series that were lost or handed back and ran again. */
  redelivered: number;
  /** Every dispatch in all series. */
  dispatches: number;
}

const UNCOUNTED = new Set(["lost", "released"]);

/**
 * Splits a task's attempts (oldest first, FULL view) into series. The
 * control plane says which series each attempt belongs to (and `current`,
 * the task's series, opens an empty one after a retry by hand that has not
 * run yet). From an older control plane, which does not, the series are
 * inferred: a series ends where the task became FAILED or CANCELLED, so a
 * later attempt can only come from RetryTask (a cancelled attempt, a
 * non-retryable failure, the max-attempts-th failure, or the fifth loss in a
 * row); `waiting` (queued or scheduled) then opens the next one. Inference
 * cannot see a task cancelled while it waited between two attempts.
 */
export function attemptSeries(attempts: readonly AttemptInfo[], maxAttempts: number, waiting = false, current = 0): AttemptSeries[] {
  if (attempts.every((a) => a.series > 0) && (current > 0 || attempts.length > 0)) return bySeries(attempts, current);
  const all: AttemptSeries[] = [{ number: 1, attempts: [] }];
  let failures = 0;
  let losses = 0;
  let ended = false;
  for (const a of attempts) {
    if (ended) {
      all.push({ number: all.length + 1, attempts: [] });
      failures = 0;
      losses = 0;
      ended = false;
    }
    all[all.length - 1]!.attempts.push(a);
    if (a.outcome === "failed" || a.outcome === "timed_out") {
      losses = 0;
      ended = ++failures >= maxAttempts || a.error?.retryable === false;
    } else if (a.outcome === "cancelled") {
      ended = true;
    } else if (a.outcome === "lost") {
      ended = ++losses >= MAX_LOSSES;
    }
  }
  if (ended && waiting) all.push({ number: all.length + 1, attempts: [] });
  return all;
}

/** Attempts grouped by the series the control plane recorded; the current series is listed even before its first attempt. */
function bySeries(attempts: readonly AttemptInfo[], current: number): AttemptSeries[] {
  const all: AttemptSeries[] = [];
  for (const a of attempts) {
    const last = all[all.length - 1];
    if (last !== undefined && last.number === a.series) last.attempts.push(a);
    else all.push({ number: a.series, attempts: [a] });
  }
  if (current > 0 && (all.length === 0 || all[all.length - 1]!.number < current)) all.push({ number: current, attempts: [] });
  return all;
}

/**
 * The task's current series and its attempt within it: "attempt 2 of 5,
 * series 2" where the plain attempt number would read "attempt 7 of 5".
 * The control plane says both (any view); from an older one they are
 * inferred from the attempts, which only the FULL view carries (GetTask,
 * `fw status`): a listing's task then gets undefined.
 */
export function attemptSummary(
  task: Pick<TaskInfo, "state" | "attempt" | "maxAttempts" | "attempts"> & Partial<Pick<TaskInfo, "series" | "seriesAttempt">>,
): AttemptSummary | undefined {
  if (task.series !== undefined && task.series > 0) {
    const inSeries = task.attempts.filter((a) => a.series === task.series).length;
    return {
      series: task.series,
      attempt: task.seriesAttempt ?? 0,
      maxAttempts: task.maxAttempts,
      redelivered: Math.max(0, inSeries - (task.seriesAttempt ?? 0)),
      dispatches: task.attempt,
    };
  }
  if (task.attempts.length < task.attempt) return undefined;
  const all = attemptSeries(task.attempts, task.maxAttempts, task.state === "queued" || task.state === "scheduled");
  const current = all[all.length - 1]!;
  const redelivered = current.attempts.filter((a) => UNCOUNTED.has(a.outcome)).length;
  return {
    series: current.number,
    attempt: current.attempts.length - redelivered,
    maxAttempts: task.maxAttempts,
    redelivered,
    dispatches: task.attempts.length,
  };
}

/** "2 of 5 · series 2 · 1 redelivered" (the attempt within its series); "not started" before a series' first attempt. */
export function attemptLabel(summary: AttemptSummary): string {
  const parts = [summary.attempt === 0 ? "not started" : `${summary.attempt} of ${summary.maxAttempts}`];
  if (summary.series > 1) parts.push(`series ${summary.series}`);
  if (summary.redelivered > 0) parts.push(`${summary.redelivered} redelivered`);
  return parts.join(" · ");
}

/** A progress report as one label, and the bar's value when it says one. */
export interface ProgressLabel {
  /** 0..1, or undefined when the handler reported only a message. */
  fraction: number | undefined;
  /** "40%", "40% · copying files", or the handler's message when it already says the percentage ("40% of 30000 ms"). */
  text: string;
}

/**
 * Words a progress report once. A handler's message often carries the
 * percentage already; it is not printed twice ("40% 40% of 30000 ms").
 * The fraction is 0 when unknown, so 0 with a message is shown as the message.
 */
export function progressLabel(progress: { fraction: number; message: string }): ProgressLabel {
  const message = progress.message.trim();
  const fraction = Math.min(1, Math.max(0, progress.fraction));
  if (fraction === 0 && message) return { fraction: undefined, text: message };
  const percent = `${Math.round(fraction * 100)}%`;
  if (!message) return { fraction, text: percent };
  return { fraction, text: message.includes(percent) ? message : `${percent} · ${message}` };
}
