import type { StatsSample } from "../../../gen/fastworker/v1/admin_service_pb.js";
import type { StatsSampleData } from "../../../common/stats-sample.js";
import { durationToMs, timestampToMs } from "../../../common/time.js";

/** One second of the control plane's history, as the charts use it. */
export type Sample = StatsSampleData;

/** The most samples kept: ten minutes at one a second, as the server keeps. */
export const MAX_SAMPLES = 600;

/** A StatsSample message as plain numbers. */
export function sample(s: StatsSample): Sample {
  return {
    time: timestampToMs(s.time),
    periodMs: durationToMs(s.period) ?? 0,
    submitted: Number(s.submitted),
    succeeded: Number(s.succeeded),
    failed: Number(s.failed),
    cancelled: Number(s.cancelled),
    queued: Number(s.queued),
    running: Number(s.running),
  };
}

/** Appends new samples, keeping the newest {@link MAX_SAMPLES}. */
export function appendSamples(kept: readonly Sample[], added: readonly Sample[]): Sample[] {
  if (added.length === 0) return kept as Sample[];
  const all = kept.concat(added);
  return all.length > MAX_SAMPLES ? all.slice(all.length - MAX_SAMPLES) : all;
}
