/** The longest delay setTimeout supports. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One timer set for the earliest due time a loop holds (scheduled tasks,
 * rate-limit wake-ups, schedule ticks). setTimeout cannot wait longer than
 * MAX_TIMER_MS (it would fire at once), so a later time fires then and the
 * owner sets the timer again. It never keeps the process alive.
 */
export class DueTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(private readonly fire: () => void) {}

  /** The time the timer is set for (Infinity: not set). */
  get at(): number {
    return this.armedAt;
  }

  /** Sets the timer for `next` (Infinity: none), replacing the one set before. */
  set(next: number, now: number): void {
    this.clear();
    if (next === Number.POSITIVE_INFINITY) return;
    this.armedAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedAt = Number.POSITIVE_INFINITY;
        this.fire();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, next - now)),
    );
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }
}
