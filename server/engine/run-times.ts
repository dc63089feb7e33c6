/** Run times kept per task name: the latest ones, enough for a p95 that moves with the work. */
const PER_NAME = 256;
/** Names with run times kept; past it the name that got its first sample longest ago is forgotten. */
const MAX_NAMES = 10_000;

/** Median and 95th percentile of a name's recent run times. */
export interface RunTimeSummary {
  p50Ms: number;
  p95Ms: number;
  samples: number;
}

/**
 * How long the recent attempts of each task name ran, dispatch to outcome
 * (succeeded, failed or timed out; not lost, released or cancelled ones), in
 * a ring of the last {@link PER_NAME} per name. Memory is bounded however
 * many names workers report: at most {@link MAX_NAMES} rings.
 */
export class RunTimes {
  private readonly byName = new Map<string, { ring: Float64Array; count: number }>();

  /** An attempt of `name` ended after `ms`. */
  add(name: string, ms: number): void {
    let entry = this.byName.get(name);
    if (entry === undefined) {
      if (this.byName.size >= MAX_NAMES) this.byName.delete(this.byName.keys().next().value!);
      this.byName.set(name, (entry = { ring: new Float64Array(PER_NAME), count: 0 }));
    }
    entry.ring[entry.count % PER_NAME] = Math.max(0, ms);
    entry.count++;
  }

  /** A name's p50 and p95 (nearest rank), or undefined before its first attempt ended. */
  summary(name: string): RunTimeSummary | undefined {
    const entry = this.byName.get(name);
    if (entry === undefined) return undefined;
    const n = Math.min(entry.count, PER_NAME);
    const sorted = entry.ring.slice(0, n).sort();
    const rank = (q: number): number => sorted[Math.max(0, Math.ceil(q * n) - 1)]!;
    return { p50Ms: rank(0.5), p95Ms: rank(0.95), samples: n };
  }
}
