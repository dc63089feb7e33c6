const BUCKET_MS = 1000;

/**
 * Counts task outcomes as the producer learns of them, keeps a per-second
 * timeline, and lets the workload wait (bounded) for a total.
 */
export class CompletionCounter {
  succeeded = 0;
  failed = 0;
  lastFailure = "";
  /** performance.now() of the first and the latest outcome since reset(). */
  firstAt = Number.NaN;
  lastAt = Number.NaN;
  private buckets: number[] = [];
  private waiter: { target: number; resolve: () => void } | undefined;

  /** Forgets everything counted so far (after a warm-up). */
  reset(): void {
    this.succeeded = 0;
    this.failed = 0;
    this.lastFailure = "";
    this.firstAt = Number.NaN;
    this.lastAt = Number.NaN;
    this.buckets = [];
  }

  get total(): number {
    return this.succeeded + this.failed;
  }

  readonly succeed = (): void => {
    this.note();
    this.succeeded++;
    this.check();
  };

  readonly fail = (reason: unknown): void => {
    this.note();
    this.failed++;
    this.lastFailure = reason instanceof Error ? reason.message : String(reason);
    this.check();
  };

  /** Resolves once `target` outcomes were counted; rejects after `timeoutMs` or if any task failed. */
  async waitFor(target: number, timeoutMs: number): Promise<void> {
    if (this.total < target) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiter = undefined;
          reject(new Error(`saw ${this.total} of ${target} outcomes within ${timeoutMs / 1000}s`));
        }, timeoutMs);
        this.waiter = {
          target,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    }
    if (this.failed > 0) throw new Error(`${this.failed} tasks failed; the last: ${this.lastFailure}`);
  }

  /** Outcomes per second, second by second from the first outcome. */
  timeline(): number[] {
    return Array.from(this.buckets, (n) => n ?? 0);
  }

  private note(): void {
    const now = performance.now();
    if (Number.isNaN(this.firstAt)) this.firstAt = now;
    this.lastAt = now;
    const bucket = Math.floor((now - this.firstAt) / BUCKET_MS);
    this.buckets[bucket] = (this.buckets[bucket] ?? 0) + 1;
  }

  private check(): void {
    if (this.waiter !== undefined && this.total >= this.waiter.target) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve();
    }
  }
}
