/** Below one token by less than this counts as one (floating-point refills). */
const EPSILON = 1e-9;

/**
 * A token bucket: `max` tokens, refilled continuously at `max` per `perMs`.
 * Each task start takes one token, so at most `max` start at once after a
 * quiet spell and, over any window of length T, at most `max + max·T/perMs`.
 * Time is passed in (no clock of its own), so tests drive it directly.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private max: number,
    private perMs: number,
    now: number,
  ) {
    this.tokens = max;
    this.at = now;
  }

  /** Tokens available at `now` (fractions included). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Takes a token if one is available; returns whether it did. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1 - EPSILON) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** When the next whole token is available (now if one is). */
  nextAt(now: number): number {
    this.refill(now);
    if (this.tokens >= 1 - EPSILON) return now;
    return now + Math.ceil(((1 - this.tokens) * this.perMs) / this.max);
  }

  /** When the bucket will be full again. */
  fullAt(now: number): number {
    this.refill(now);
    return now + Math.ceil(((this.max - this.tokens) * this.perMs) / this.max);
  }

  /** True when the bucket is full: it is then the same as a new one. */
  isFull(now: number): boolean {
    return this.available(now) >= this.max - EPSILON;
  }

  /** Applies a new rate, keeping the tokens it has (up to the new max). */
  reconfigure(max: number, perMs: number, now: number): void {
    this.refill(now);
    this.max = max;
    this.perMs = perMs;
    this.tokens = Math.min(this.tokens, max);
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.max, this.tokens + ((now - this.at) * this.max) / this.perMs);
      this.at = now;
    }
  }
}
