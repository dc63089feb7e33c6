import type { Logger } from "../../common/logger.js";
import { IntervalLoop, type Loop } from "./interval-loop.js";
import type { TaskStore } from "../store/task-store.js";

/**
 * Drops results past their TTL and the oldest beyond --max-results, once a
 * second. (Lookups of an expired id already answer NOT_FOUND in between.)
 */
export class ResultSweeper implements Loop {
  private readonly loop: IntervalLoop;

  constructor(private readonly store: TaskStore, logger: Logger, intervalMs = 1000) {
    this.loop = new IntervalLoop(intervalMs, (now) => this.runOnce(now), (err) => logger.error({ err }, "result sweeper failed"));
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Sweeps once; returns how many tasks were dropped. */
  runOnce(now: number): number {
    return this.store.sweep(now);
  }
}
