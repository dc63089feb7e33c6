import { Queue, QueueEvents } from "bullmq";
import { CompletionCounter } from "./completion-counter.js";
import { TASK_NAME, type NamedTask, type QueueDriver } from "./driver.js";
import type { BullmqTarget } from "./protocol.js";

/**
 * The BullMQ producer: a Queue (`addBulk` for batches, `add` per job) and a
 * QueueEvents reader. Completion is counted from QueueEvents `completed`
 * events: that is how a separate producer process learns that its jobs
 * finished (job.waitUntilFinished() listens to the same events), so the
 * result travels worker → Redis → producer, as fastworker's result travels
 * worker → control plane → producer.
 *
 * Round trips wait for the `completed` event of their job id directly rather
 * than job.waitUntilFinished(): with removeOnComplete its extra isFinished
 * check races the removal and can fail with "Missing key".
 *
 * The scaling sweeps give it several Queue instances (sessions), each its own
 * Redis connection; they share the one QueueEvents reader of the process, as
 * an application does (events are per queue, not per Queue instance: a reader
 * per instance would read every event once per instance).
 */
export class BullmqDriver implements QueueDriver {
  readonly completions = new CompletionCounter();
  private readonly queues: Queue[];
  private readonly events: QueueEvents;
  private readonly waiting = new Map<string, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private readonly early = new Map<string, { ok: boolean; value: unknown }>();
  /** Round trips whose add() has not resolved yet: only then can an event arrive before its waiter. */
  private adding = 0;

  private constructor(queues: Queue[], events: QueueEvents) {
    this.queues = queues;
    this.events = events;
    events.on("completed", ({ jobId, returnvalue }) => {
      this.completions.succeed();
      this.settle(jobId, true, returnvalue);
    });
    events.on("failed", ({ jobId, failedReason }) => {
      this.completions.fail(failedReason);
      this.settle(jobId, false, failedReason);
    });
  }

  static async connect(target: BullmqTarget, sessions = 1): Promise<BullmqDriver> {
    const connection = { host: target.host, port: target.port, maxRetriesPerRequest: null };
    const queues = Array.from(
      { length: sessions },
      () =>
        new Queue(target.queue, {
          connection,
          // Completed jobs are deleted at once so Redis memory stays flat (fastworker keeps its results, bounded by --max-results).
          defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000 },
          // Enough room that QueueEvents never misses a `completed` event while the producer is busy adding.
          streams: { events: { maxLen: target.eventsMaxLen } },
        }),
    );
    // Read the events stream from its start, not from "$": each run has a fresh Redis, and with "$" the
    // completions that happen before QueueEvents' first XREAD is registered would be missed (we saw it).
    const events = new QueueEvents(target.queue, { connection, lastEventId: "0" });
    await Promise.all([...queues.map((q) => q.waitUntilReady()), events.waitUntilReady()]);
    return new BullmqDriver(queues, events);
  }

  get sessions(): number {
    return this.queues.length;
  }

  async submitBatch(indices: readonly number[]): Promise<void> {
    await this.queues[0]!.addBulk(indices.map((i) => ({ name: TASK_NAME, data: { i } })));
  }

  async submitOne(i: number): Promise<void> {
    await this.queues[0]!.add(TASK_NAME, { i });
  }

  async roundTrip(i: number): Promise<unknown> {
    this.adding++;
    let id: string;
    try {
      id = (await this.queues[0]!.add(TASK_NAME, { i })).id!;
    } finally {
      this.adding--;
    }
    return await this.outcome(id);
  }

  callBatch(session: number, tasks: readonly NamedTask[]): Promise<unknown>[] {
    this.adding++;
    const added = this.queues[session]!.addBulk(tasks.map((t) => ({ name: t.name, data: t.args }))).finally(() => this.adding--);
    return tasks.map((_, k) => added.then((jobs) => this.outcome(jobs[k]!.id!)));
  }

  /** The parsed result of a job once its `completed` event arrives (it may already have). */
  private async outcome(id: string): Promise<unknown> {
    const early = this.early.get(id);
    if (early !== undefined) {
      this.early.delete(id);
      if (!early.ok) throw new Error(String(early.value));
      return parse(early.value);
    }
    return parse(await new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject })));
  }

  async close(): Promise<void> {
    await Promise.all([this.events.close(), ...this.queues.map((q) => q.close())]);
  }

  private settle(jobId: string, ok: boolean, value: unknown): void {
    const waiter = this.waiting.get(jobId);
    if (waiter === undefined) {
      // A round trip's event can arrive before its add() resolved here; throughput runs do not wait per job.
      if (this.adding > 0) {
        this.early.set(jobId, { ok, value });
        // With several producer processes every reader sees every job's events, and others' jobs are never
        // claimed here: forget the oldest (an own job's event is claimed as soon as its add() resolves).
        if (this.early.size > EARLY_LIMIT) this.early.delete(this.early.keys().next().value!);
      }
      return;
    }
    this.waiting.delete(jobId);
    if (ok) waiter.resolve(value);
    else waiter.reject(new Error(String(value)));
  }
}

/** Events kept for jobs without a waiter yet, at most. */
const EARLY_LIMIT = 50_000;

/** QueueEvents carries return values as JSON text; an application parses them (fastworker's result() decodes its value too). */
function parse(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}
