import { FEW_TO_TELL } from "../../../client/task-summary.js";
import type { Sample } from "../live/samples.js";

/** Finished tasks fewer than this in the window make a failure rate too uncertain to read: it is greyed (as `fw stats` says). */
export const FEW = FEW_TO_TELL;
/** The window for the titles' rates and the failure-rate line, in samples (one a second). */
const WINDOW = 10;

/**
 * Per-second values for the charts, and the rates over the latest window of
 * samples. The titles, the legends and the failure-rate line all come from
 * these samples, over the time they really cover: one source, so the title
 * and the legend beside it agree.
 */
export function chartSeries(samples: readonly Sample[]) {
  const perSecond = (n: number, s: Sample): number => (s.periodMs > 0 ? (n * 1000) / s.periodMs : n);
  const failureRate: number[] = [];
  let failed = 0;
  let finished = 0;
  let periodMs = 0;
  samples.forEach((s, i) => {
    failed += s.failed;
    finished += s.succeeded + s.failed + s.cancelled;
    periodMs += s.periodMs;
    const old = samples[i - WINDOW];
    if (old !== undefined) {
      failed -= old.failed;
      finished -= old.succeeded + old.failed + old.cancelled;
      periodMs -= old.periodMs;
    }
    failureRate.push(finished > 0 ? failed / finished : 0);
  });
  return {
    times: samples.map((s) => s.time),
    succeeded: samples.map((s) => perSecond(s.succeeded, s)),
    failed: samples.map((s) => perSecond(s.failed, s)),
    cancelled: samples.map((s) => perSecond(s.cancelled, s)),
    failureRate,
    queued: samples.map((s) => s.queued),
    running: samples.map((s) => s.running),
    recent: {
      failed,
      finished,
      periodMs,
      throughput: periodMs > 0 ? (finished * 1000) / periodMs : 0,
      failureRate: finished > 0 ? failed / finished : 0,
    },
  };
}
