import type { Logger } from "../common/logger.js";
import { IntervalLoop, type Loop } from "../server/loops/interval-loop.js";

/** One look at the process: when, CPU used so far (µs, user + system), resident bytes. */
export interface ProcessReading {
  now: number;
  cpuMicros: number;
  rssBytes: number;
}

/** Options for {@link IdleCollector}; the defaults are fw-server's. */
export interface IdleCollectorOptions {
  /** The collection to run (fw-server's: {@link collectGarbage}). */
  collect: () => Promise<void>;
  logger: Logger;
  /** How often it looks, and the window idleness is judged over. Default 2 s. */
  checkMs?: number;
  /** Idle: less CPU than this share of the window (0.02: 40 ms in 2 s). */
  idleCpuShare?: number;
  /** Collect only when the RSS grew this much since the last collection. Default 32 MiB. */
  growthBytes?: number;
  /** At most one collection per this long. Default 30 s. */
  minIntervalMs?: number;
}

function readProcess(): ProcessReading {
  const cpu = process.cpuUsage();
  return { now: Date.now(), cpuMicros: cpu.user + cpu.system, rssBytes: process.memoryUsage.rss() };
}

/**
 * Gives the garbage of a burst back once the control plane falls idle.
 *
 * Why: garbage from submissions that reached V8's old generation stays until
 * the program allocates again, so a server that accepted a backlog and then
 * sits idle kept it (1M queued: 266-447 MiB RSS as read, 242-247 after a full
 * GC). It collects only when the last window was idle (almost no CPU: no
 * request was served), the RSS grew by `growthBytes` since the last
 * collection, and `minIntervalMs` has passed: it cannot pause a busy server,
 * and it runs at most once per idle spell after growth.
 */
export class IdleCollector implements Loop {
  private readonly loop: IntervalLoop;
  private readonly idleCpuShare: number;
  private readonly growthBytes: number;
  private readonly minIntervalMs: number;
  private last: ProcessReading | undefined;
  /** The RSS at the first reading after the last collection (or at start). */
  private baselineBytes: number | undefined;
  private lastCollectedAt = Number.NEGATIVE_INFINITY;
  private collecting = false;

  constructor(private readonly options: IdleCollectorOptions) {
    this.idleCpuShare = options.idleCpuShare ?? 0.02;
    this.growthBytes = options.growthBytes ?? 32 * 2 ** 20;
    this.minIntervalMs = options.minIntervalMs ?? 30_000;
    const onError = (err: unknown): void => options.logger.warn({ err }, "idle garbage collection failed");
    this.loop = new IntervalLoop(options.checkMs ?? 2000, () => void this.runOnce(readProcess()).catch(onError), onError);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /**
   * Looks once: collects when the window since the previous reading was idle
   * and the RSS grew enough. Returns whether it collected.
   */
  async runOnce(reading: ProcessReading): Promise<boolean> {
    const previous = this.last;
    this.last = reading;
    this.baselineBytes ??= reading.rssBytes;
    if (previous === undefined || this.collecting) return false;
    const windowMs = reading.now - previous.now;
    if (windowMs <= 0) return false;
    const idle = (reading.cpuMicros - previous.cpuMicros) / 1000 < this.idleCpuShare * windowMs;
    if (!idle || reading.rssBytes - this.baselineBytes < this.growthBytes) return false;
    if (reading.now - this.lastCollectedAt < this.minIntervalMs) return false;
    this.collecting = true;
    try {
      await this.options.collect();
    } finally {
      this.collecting = false;
      this.lastCollectedAt = reading.now;
      // The next reading starts a new window (the collection's own CPU does not count) and a new baseline.
      this.last = undefined;
      this.baselineBytes = undefined;
    }
    return true;
  }
}
