/** Options for {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /** A beacon whose timestamp is further than this from our clock (either way) is stale. */
  maxAgeMs: number;
  /** The most nonces remembered; the oldest are forgotten first (default 10,000). */
  maxEntries?: number;
}

/** Why the guard refused a beacon, or that it is fresh. */
export type Freshness = "fresh" | "stale" | "replayed";

/**
 * Freshness and replay protection for beacons: a beacon must carry a
 * timestamp within `maxAgeMs` of our clock and a nonce not seen in that
 * window. Nonces older than the window need not be remembered (their
 * beacons are stale anyway), so memory stays bounded by the beacon rate.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;

  constructor(options: ReplayGuardOptions) {
    if (!(options.maxAgeMs > 0)) throw new Error(`the beacon age limit must be positive (got ${options.maxAgeMs})`);
    this.maxAgeMs = options.maxAgeMs;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Checks a beacon's timestamp and nonce; remembers the nonce when it is fresh. */
  check(ts: number, nonce: string, now: number): Freshness {
    if (Math.abs(now - ts) > this.maxAgeMs) return "stale";
    this.prune(now);
    if (this.seen.has(nonce)) return "replayed";
    this.seen.set(nonce, ts);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    return "fresh";
  }

  /** How many nonces are remembered (for tests). */
  get size(): number {
    return this.seen.size;
  }

  /** Forgets nonces whose beacons would now be stale. Arrival order ≈ time order, so stop at the first young one. */
  private prune(now: number): void {
    for (const [nonce, ts] of this.seen) {
      if (now - ts <= this.maxAgeMs) break;
      this.seen.delete(nonce);
    }
  }
}
