import type { Logger } from "../../common/logger.js";
import type { EngineConfig } from "../engine/config.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { IntervalLoop, type Loop } from "./interval-loop.js";

/**
 * Gives up on workers that lost their lease: no echoed ping for
 * leaseTimeout (process dead, frozen, or its dispatch stream stalled), or a
 * dispatch stream closed for longer than detachGrace. Their attempts go back
 * to the queue at their places; a late result from them is ignored.
 */
export class LeaseReaper implements Loop {
  private readonly loop: IntervalLoop;

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

  /** Loses every worker past its lease; returns how many. */
  runOnce(now: number): number {
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
