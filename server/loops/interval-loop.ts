/** A background step that runs every `intervalMs`; start() and stop() are idempotent. */
export interface Loop {
  start(): void;
  stop(): void;
}

/**
 * Runs `step(now)` every `intervalMs` on an unref'd timer (a loop never keeps
 * the process alive by itself). A step that throws is reported to `onError`
 * and the loop goes on.
 */
export class IntervalLoop implements Loop {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly step: (now: number) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      try {
        this.step(Date.now());
      } catch (err) {
        this.onError(err);
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
