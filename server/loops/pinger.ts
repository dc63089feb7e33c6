import type { Logger } from "../../common/logger.js";
import { IntervalLoop, type Loop } from "./interval-loop.js";
import type { WorkerRegistry } from "../engine/worker-registry.js";

/**
 * Sends a ping down every open dispatch stream each heartbeat interval.
 * Workers answer each ping with a heartbeat that echoes it, which is the
 * only thing that renews their lease: a heartbeat proves the dispatch stream
 * delivers, not merely that the worker can still make calls.
 */
export class Pinger implements Loop {
  private readonly loop: IntervalLoop;

  constructor(private readonly workers: WorkerRegistry, intervalMs: number, logger: Logger) {
    this.loop = new IntervalLoop(intervalMs, (now) => this.runOnce(now), (err) => logger.error({ err }, "pinger failed"));
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Pings every attached worker; returns how many. */
  runOnce(now: number): number {
    let pinged = 0;
    for (const worker of this.workers.live()) {
      if (worker.stream === undefined) continue;
      worker.ping(now);
      pinged++;
    }
    return pinged;
  }
}
