import type { Logger } from "../../common/logger.js";
import type { EngineConfig } from "../engine/config.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { IntervalLoop, type Loop } from "./interval-loop.js";
import { StallGuard } from "./stall-guard.js";

/** How often running attempts are checked. */
const INTERVAL_MS = 1000;

/**
 * Enforces task timeouts on the control plane's side. Workers time their
 * attempts out themselves; this catches the attempts a worker does not
 * report (a worker that is broken, ignores its timers, or is not
 * fastworker's own) while it keeps heartbeating, so its lease never runs
 * out. A RUNNING attempt with a timeout that is still unreported
 * --timeout-grace after it is due is failed as TIMED_OUT (retried per its
 * policy) and its worker told to stop it (AttemptTracker.timeOut).
 *
 * Checks every attempt held by a worker once a second: the cost grows with
 * what runs, not with how many tasks went through. Right after a stall of
 * the control plane itself it skips a round, so results that arrived
 * meanwhile are read before anything is timed out.
 */
export class TimeoutEnforcer implements Loop {
  private readonly loop: IntervalLoop;
  private readonly stalls = new StallGuard(3 * INTERVAL_MS);

  constructor(
    private readonly plane: ControlPlane,
    private readonly config: EngineConfig,
    private readonly logger: Logger,
  ) {
    this.loop = new IntervalLoop(INTERVAL_MS, (now) => this.runOnce(now), (err) => logger.error({ err }, "timeout enforcer failed"));
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Times out every open attempt past its timeout plus the grace; returns how many. */
  runOnce(now: number): number {
    if (this.stalls.check(now) > 0) return 0;
    const grace = this.config.timeoutGraceMs;
    let timedOut = 0;
    for (const worker of [...this.plane.workers.live()]) {
      for (const attempt of [...worker.inflight]) {
        if (!attempt.isOpen) continue;
        const timeoutMs = this.plane.attempts.timeoutOf(attempt.task);
        if (timeoutMs === 0 || now - attempt.dispatchedAt <= timeoutMs + grace) continue;
        const message = `attempt ${attempt.number} ran ${((now - attempt.dispatchedAt) / 1000).toFixed(1)}s, past its timeout (${timeoutMs / 1000}s) and --timeout-grace (${grace / 1000}s), and its worker did not report it; the control plane gave it up`;
        this.plane.attempts.timeOut(worker, attempt, now, message);
        this.logger.warn({ taskId: attempt.task.id, attempt: attempt.number, worker: worker.name, workerId: worker.id }, message);
        timedOut++;
      }
    }
    return timedOut;
  }
}
