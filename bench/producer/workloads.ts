import type { QueueDriver } from "./driver.js";
import type { BacklogReport, BacklogWorkload, LatencyReport, LatencyWorkload, Mark, ThroughputReport, ThroughputWorkload } from "./protocol.js";

/** What a workload needs besides the driver. */
export interface WorkloadContext {
  /** Tells the harness where the measured window starts and ends (it snapshots CPU and memory then). */
  mark(mark: Mark): void;
  /** Bound on every wait. */
  timeoutMs: number;
}

/**
 * End-to-end throughput: warm up, then submit `tasks` tasks and wait until
 * every outcome reached the producer. The clock runs from the first submit
 * call to the last outcome.
 */
export async function throughput(driver: QueueDriver, w: ThroughputWorkload, ctx: WorkloadContext): Promise<ThroughputReport> {
  if (w.warmup > 0) {
    await submitAll(driver, w, 0, w.warmup);
    await driver.completions.waitFor(w.warmup, ctx.timeoutMs);
  }
  driver.completions.reset();
  ctx.mark("measure-start");
  const start = performance.now();
  await submitAll(driver, w, w.warmup, w.tasks);
  const submitted = performance.now();
  await driver.completions.waitFor(w.tasks, ctx.timeoutMs);
  const end = performance.now();
  ctx.mark("measure-end");
  const totalSeconds = (end - start) / 1000;
  const submitSeconds = (submitted - start) / 1000;
  return {
    kind: "throughput",
    tasks: w.tasks,
    submitSeconds,
    totalSeconds,
    tasksPerSecond: w.tasks / totalSeconds,
    submittedPerSecond: w.tasks / submitSeconds,
  };
}

/**
 * Idle round trips, one after the other: submit, wait for the result,
 * repeat. A batched burst and then warm-up round trips run first and are
 * not recorded.
 */
export async function latency(driver: QueueDriver, w: LatencyWorkload, ctx: WorkloadContext): Promise<LatencyReport> {
  const samplesMs = await roundTrips(ctx, {
    async burst() {
      if (w.burst > 0) {
        driver.completions.reset();
        await submitAll(driver, { submit: "batched", chunk: w.chunk, inflightChunks: w.inflightChunks, submitters: 1 }, 0, w.burst);
        await driver.completions.waitFor(w.burst, ctx.timeoutMs);
      }
    },
    warmup: w.warmup,
    samples: w.samples,
    async roundTrip(i) {
      const start = performance.now();
      await roundTrip(driver, i, ctx.timeoutMs);
      return performance.now() - start;
    },
  });
  return { kind: "latency", samplesMs };
}

/** How {@link roundTrips} warms up and what one round trip is. */
export interface RoundTripsOptions<T> {
  /** Tasks run first, not measured, so the samples see optimised code (Sizes.latencyBurst says why). */
  burst(): Promise<void>;
  /** Sequential round trips after the burst, not measured (Sizes.latencyWarmup). */
  warmup: number;
  /** Round trips measured. */
  samples: number;
  /** One round trip, the `i`th since the warm-up began; answers what the workload records of it. */
  roundTrip(i: number): Promise<T>;
}

/**
 * Idle round trips, one after the other, as the latency and breakdown
 * workloads take them: the burst, the warm-up round trips, then `samples`
 * round trips between the measure-start and measure-end marks. Answers what
 * each measured round trip recorded, in order.
 */
export async function roundTrips<T>(ctx: WorkloadContext, o: RoundTripsOptions<T>): Promise<T[]> {
  await o.burst();
  for (let i = 0; i < o.warmup; i++) await o.roundTrip(i);
  ctx.mark("measure-start");
  const samples: T[] = [];
  for (let i = 0; i < o.samples; i++) samples.push(await o.roundTrip(o.warmup + i));
  ctx.mark("measure-end");
  return samples;
}

/**
 * A deep backlog: queue `tasks` tasks while no worker runs, tell the harness
 * (which then measures memory and starts the workers), and wait for every
 * outcome. The rate is taken from the first outcome to the last, so worker
 * start-up time does not count.
 */
export async function backlog(driver: QueueDriver, w: BacklogWorkload, ctx: WorkloadContext): Promise<BacklogReport> {
  driver.completions.reset();
  const start = performance.now();
  await submitAll(driver, { submit: "batched", chunk: w.chunk, inflightChunks: w.inflightChunks, submitters: 1 }, 0, w.tasks);
  const submitSeconds = (performance.now() - start) / 1000;
  ctx.mark("backlog-queued");
  await driver.completions.waitFor(w.tasks, ctx.timeoutMs);
  ctx.mark("measure-end");
  const c = driver.completions;
  const drainSeconds = (c.lastAt - c.firstAt) / 1000;
  return { kind: "backlog", tasks: w.tasks, submitSeconds, drainSeconds, tasksPerSecond: w.tasks / drainSeconds, timeline: c.timeline() };
}

type SubmitStyle = Pick<ThroughputWorkload, "submit" | "chunk" | "inflightChunks" | "submitters">;

/** Submits tasks first…first+count-1 in the workload's style; resolves when all were accepted. */
async function submitAll(driver: QueueDriver, w: SubmitStyle, first: number, count: number): Promise<void> {
  const end = first + count;
  let next = first;
  if (w.submit === "per-submit") {
    // `submitters` app handlers, each submitting one task per call and moving on once it is accepted.
    const loop = async (): Promise<void> => {
      while (next < end) await driver.submitOne(next++);
    };
    await Promise.all(Array.from({ length: Math.min(w.submitters, count) }, loop));
    return;
  }
  // Batches of `chunk` tasks, at most `inflightChunks` batches outstanding.
  const inflight = new Set<Promise<void>>();
  while (next < end) {
    const size = Math.min(w.chunk, end - next);
    const indices = Array.from({ length: size }, (_, k) => next + k);
    next += size;
    const sending: Promise<void> = driver.submitBatch(indices).finally(() => inflight.delete(sending));
    inflight.add(sending);
    if (inflight.size >= w.inflightChunks) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

async function roundTrip(driver: QueueDriver, i: number, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    driver.roundTrip(i),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`round trip ${i} did not finish within ${timeoutMs / 1000}s`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (result !== i) throw new Error(`round trip ${i} returned ${JSON.stringify(result)}`);
}
