/**
 * Notices when a periodic step ran late: the event loop was blocked (a long
 * synchronous task, a GC pause) or the process was suspended. Timers fire
 * before pending I/O is read, so right after such a gap a loop would judge
 * by stale evidence: heartbeats and results that arrived during the gap are
 * still unread. Loops that give up on workers or attempts skip that round.
 */
export class StallGuard {
  private lastRunAt: number | undefined;

  /** @param thresholdMs a gap between two runs longer than this is a stall. */
  constructor(private readonly thresholdMs: number) {}

  /** Records a run at `now`; returns how long the gap since the previous run was when it is a stall, else 0. */
  check(now: number): number {
    const gap = this.lastRunAt === undefined ? 0 : now - this.lastRunAt;
    this.lastRunAt = now;
    return gap > this.thresholdMs ? gap : 0;
  }
}
