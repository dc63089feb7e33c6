/**
 * Counts events per second over a sliding window of whole seconds, for
 * "tasks/s over the last 10 seconds" style figures. O(1) per event.
 */
export class RateWindow {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;

  constructor(private readonly seconds = 10) {
    this.buckets = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds);
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
      if (second - this.stamps[i]! < this.seconds) sum += this.buckets[i]!;
    }
    return sum;
  }

  /** Events per second over the window. */
  rate(now: number): number {
    return this.total(now) / this.seconds;
  }
}
