import { create } from "@bufbuild/protobuf";
import { StatsSampleSchema, type StatsSample } from "../../gen/fastworker/v1/admin_service_pb.js";
import type { Logger } from "../../common/logger.js";
import { durationFromMs, timestampFromMs } from "../../common/time.js";
import { IntervalLoop, type Loop } from "../loops/interval-loop.js";
import type { StatsCounters } from "../engine/stats.js";
import type { StatsSampleData } from "../../common/stats-sample.js";
import type { StateCounts } from "../store/store.js";

/** What {@link StatsHistory} samples. */
export interface StatsHistorySource {
  stats: StatsCounters;
  store: { counts(): StateCounts };
}

/** Options for {@link StatsHistory}. */
export interface StatsHistoryOptions {
  /** How often a sample is taken (default 1000 ms). */
  intervalMs?: number;
  /** How many samples are kept (default 600: ten minutes at one a second). */
  capacity?: number;
}

/** One sample with the sequence number streams use to send only what is new. */
interface Sample extends StatsSampleData {
  seq: number;
}

/**
 * Per-second samples of what the control plane did (submitted, succeeded,
 * failed, cancelled; queued and running at the end of each second), kept for
 * the last ten minutes so the dashboard's charts have history as soon as the
 * page opens, not only from then on. One cheap step a second, whether anyone
 * watches or not: it reads counters the hot path maintains anyway.
 */
export class StatsHistory implements Loop {
  private readonly loop: IntervalLoop;
  private readonly capacity: number;
  private readonly samples: Sample[] = [];
  private seq = 0;
  private last: { time: number; submitted: number; succeeded: number; failed: number; cancelled: number } | undefined;

  constructor(
    private readonly source: StatsHistorySource,
    logger: Logger,
    options: StatsHistoryOptions = {},
  ) {
    this.capacity = options.capacity ?? 600;
    this.loop = new IntervalLoop(options.intervalMs ?? 1000, (now) => this.runOnce(now), (err) => logger.error({ err }, "stats history failed"));
  }

  start(): void {
    this.last ??= this.snapshot(Date.now());
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Takes one sample: the change in the counters since the previous one. */
  runOnce(now: number): void {
    const current = this.snapshot(now);
    const previous = this.last ?? current;
    this.last = current;
    const counts = this.source.store.counts();
    this.samples.push({
      seq: ++this.seq,
      time: now,
      periodMs: Math.max(0, now - previous.time),
      submitted: current.submitted - previous.submitted,
      succeeded: current.succeeded - previous.succeeded,
      failed: current.failed - previous.failed,
      cancelled: current.cancelled - previous.cancelled,
      queued: counts.queued.reduce((a, b) => a + b, 0),
      running: counts.running,
    });
    if (this.samples.length > this.capacity) this.samples.shift();
  }

  /** The sequence number of the newest sample (0 before the first). */
  get latest(): number {
    return this.seq;
  }

  /** Samples newer than `seq`, oldest first, as messages. */
  since(seq: number): StatsSample[] {
    const out: StatsSample[] = [];
    for (const s of this.samples) {
      if (s.seq <= seq) continue;
      out.push(
        create(StatsSampleSchema, {
          time: timestampFromMs(s.time),
          period: durationFromMs(s.periodMs),
          submitted: BigInt(s.submitted),
          succeeded: BigInt(s.succeeded),
          failed: BigInt(s.failed),
          cancelled: BigInt(s.cancelled),
          queued: BigInt(s.queued),
          running: BigInt(s.running),
        }),
      );
    }
    return out;
  }

  private snapshot(time: number): { time: number; submitted: number; succeeded: number; failed: number; cancelled: number } {
    const { submitted, succeeded, failed, cancelled } = this.source.stats;
    return { time, submitted, succeeded, failed, cancelled };
  }
}
