/**
 * Counts events per second over a sliding window of whole seconds, for
 * "tasks/s over the last 10 seconds" style figures. O(1) per event.
 *
 * The window is the current second so far plus the whole seconds before it,
 * so it covers between `seconds - 1` and `seconds` seconds of time: a rate is
 * its count divided by the time it really covers, never by the nominal
 * length (which read up to 10% low), and never by time before the window
 * began counting (just after a start).
 */
export class RateWindow {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;

  /**
   * @param seconds the window's length.
   * @param since when counting began (ms since the epoch): time before it is not covered.
   */
  constructor(
    private readonly seconds = 10,
    private readonly since = Date.now(),
  ) {
    this.buckets = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  add(now: number, count = 1): void {
    const second = Math.floor(now / 1000);
    const i = second % this.seconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += count;
  }

  /** Events in the window that ends now. */
  total(now: number): number {
    const second = Math.floor(now / 1000);
    let sum = 0;
    for (let i = 0; i < this.seconds; i++) {
      const age = second - this.stamps[i]!;
      if (age >= 0 && age < this.seconds) sum += this.buckets[i]!;
    }
    return sum;
  }

  /**
   * The time the window covers now, in ms: from the start of its oldest
   * second (or from `since`, if later) to now; at least one second, so a
   * rate just after a start is not a tiny count over a tiny span.
   */
  span(now: number): number {
    const start = Math.max((Math.floor(now / 1000) - this.seconds + 1) * 1000, this.since);
    return Math.max(1000, now - start);
  }

  /** Events per second over the time the window covers. */
  rate(now: number): number {
    return (this.total(now) * 1000) / this.span(now);
  }
}
