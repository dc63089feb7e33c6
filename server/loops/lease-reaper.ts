import type { Logger } from "../../common/logger.js";
import type { EngineConfig } from "../engine/config.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { IntervalLoop, type Loop } from "./interval-loop.js";
import { StallGuard } from "./stall-guard.js";

/** A gap this long between two runs means the control plane was stalled (the loop runs every 250 ms at most). */
const STALL_MS = 1000;

/**
 * Gives up on workers that lost their lease: no echoed ping for
 * leaseTimeout (process dead, frozen, or its dispatch stream stalled), or a
 * dispatch stream closed for longer than detachGrace. Their attempts go back
 * to the queue at their places; a late result from them is ignored.
 */
export class LeaseReaper implements Loop {
  private readonly loop: IntervalLoop;
  private readonly stalls = new StallGuard(STALL_MS);
  /** After a stall, nobody is lost before this time: workers get to answer a fresh ping first. */
  private holdUntil = 0;

  constructor(
    private readonly plane: ControlPlane,
    private readonly config: EngineConfig,
    private readonly logger: Logger,
  ) {
    const interval = Math.max(20, Math.min(250, config.heartbeatIntervalMs / 2));
    this.loop = new IntervalLoop(interval, (now) => this.runOnce(now), (err) => logger.error({ err }, "lease reaper failed"));
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /**
   * Loses every worker past its lease; returns how many. After a gap of more
   * than STALL_MS since the previous run (the control plane itself was
   * stalled), nobody is lost for two heartbeat intervals: heartbeats that
   * arrived meanwhile are read first, and the pings the control plane could
   * not send during the stall go out and are answered. A stalled control
   * plane must not blame its workers.
   */
  runOnce(now: number): number {
    const stalled = this.stalls.check(now);
    if (stalled > 0) {
      this.holdUntil = now + 2 * this.config.heartbeatIntervalMs;
      this.logger.warn({ stalledMs: stalled }, `the control plane did not run for ${(stalled / 1000).toFixed(1)}s (event loop blocked or process suspended); leases are checked again once workers answered a fresh ping`);
      return 0;
    }
    if (now < this.holdUntil) return 0;
    let lost = 0;
    for (const worker of [...this.plane.workers.live()]) {
      let reason: string | undefined;
      if (worker.detachedAt > 0 && now - worker.detachedAt > this.config.detachGraceMs) {
        reason = `its dispatch stream closed ${((now - worker.detachedAt) / 1000).toFixed(1)}s ago and it did not reconnect`;
      } else if (now - worker.provenAt > this.config.leaseTimeoutMs) {
        reason = `no heartbeat proved its dispatch stream delivers for ${((now - worker.provenAt) / 1000).toFixed(1)}s (lease timeout ${this.config.leaseTimeoutMs / 1000}s)`;
      }
      if (reason === undefined) continue;
      const inflight = worker.inflight.size;
      this.plane.loseWorker(worker, now, reason);
      this.logger.warn({ worker: worker.name, workerId: worker.id, requeued: inflight }, `worker lost: ${reason}`);
      lost++;
    }
    return lost;
  }
}
