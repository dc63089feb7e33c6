import { Code, ConnectError } from "@connectrpc/connect";
import { MisfirePolicy, OverlapPolicy } from "../../gen/fastworker/v1/schedule_pb.js";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { isFinalState, taskStateName } from "../../common/task-state.js";
import type { Logger } from "../../common/logger.js";
import type { ControlPlane } from "../engine/control-plane.js";
import type { Loop } from "../loops/interval-loop.js";
import { DueTimer } from "../loops/due-timer.js";
import type { TaskRecord } from "../store/task-record.js";
import type { ScheduleEntry } from "./schedule-registry.js";

/** Metadata every scheduled task carries: its schedule's id, and its tick (ISO 8601). */
export const SCHEDULE_METADATA = "fw-schedule";
export const TICK_METADATA = "fw-tick";

/** Options for {@link ScheduleTicker}. */
export interface ScheduleTickerOptions {
  plane: ControlPlane;
  logger: Logger;
  /** The clock (default Date.now); tests pass their own and call runOnce(now). */
  clock?: () => number;
}

/**
 * The schedule loop: turns each due tick of each schedule into exactly one
 * task. The control plane owns ticking, so however many workers declare a
 * schedule it ticks once; a tick's task carries an idempotency key made of
 * the schedule id and the tick time, so a tick can never make two tasks,
 * even when the control plane crashes between submitting it and writing the
 * schedule's new last tick (both go in one group commit; if only the task
 * were written, the tick would come again after the restart and its key
 * would answer the existing task).
 *
 * Each pass handles, per schedule, the latest due tick: earlier ticks due at
 * the same time (the control plane was down, or its event loop stalled) are
 * counted as skipped. A due tick from before this loop started is a
 * misfire: RUN_ONCE (the default) runs it once, SKIP skips it. Overlap with
 * an unfinished previous run: ALLOW runs it, SKIP skips it, QUEUE_ONE keeps
 * it waiting (one at most) until that run ends.
 *
 * One timer, set for the earliest next tick; `runOnce(now)` is the whole
 * step, so tests drive it with their own clock.
 */
export class ScheduleTicker implements Loop {
  private readonly timer = new DueTimer(() => this.runOnce(this.clock()));
  private running = false;
  private pending = false;
  /** Ticks before this were missed while the control plane was down. */
  private upSince = 0;
  private readonly clock: () => number;
  private readonly plane: ControlPlane;
  private readonly logger: Logger;
  private readonly onFinished = (task: TaskRecord): void => this.taskFinished(task);
  private readonly onChanged = (): void => this.wake();
  private readonly onConflict = (id: string, message: string): void => this.logger.warn({ schedule: id }, `schedule ${id}: ${message}`);

  constructor(options: ScheduleTickerOptions) {
    this.plane = options.plane;
    this.logger = options.logger;
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.upSince = this.clock();
    this.plane.events.on("task.finished", this.onFinished).on("schedule.changed", this.onChanged).on("schedule.conflict", this.onConflict);
    this.runOnce(this.upSince);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.plane.events.off("task.finished", this.onFinished).off("schedule.changed", this.onChanged).off("schedule.conflict", this.onConflict);
    this.timer.clear();
  }

  /** A schedule changed (created, resumed, declared): handle what is due and set the timer again. */
  wake(): void {
    if (!this.running || this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.running) this.runOnce(this.clock());
    });
  }

  /** Handles every due tick and waiting run; returns how many tasks were submitted. */
  runOnce(now: number): number {
    let submitted = 0;
    for (const entry of this.plane.schedules.list()) {
      if (entry.paused) continue;
      if (entry.waitingTick > 0 && !this.previousUnfinished(entry, now)) {
        const tick = entry.waitingTick;
        entry.waitingTick = 0;
        if (this.submit(entry, tick, now, false, "ran once its previous run ended (overlap policy queue-one)")) submitted++;
        this.plane.schedules.save(entry);
      }
      if (entry.nextTick > now) continue;
      submitted += this.tick(entry, now);
    }
    this.arm(now);
    return submitted;
  }

  /** Submits a schedule's task now, outside its ticks (TriggerSchedule); returns the task's id. */
  trigger(entry: ScheduleEntry, now: number): string {
    const id = this.submitTask(entry, now, now, true);
    this.plane.schedules.save(entry);
    return id;
  }

  /** Handles a schedule's latest due tick; returns 1 if it submitted a task. */
  private tick(entry: ScheduleEntry, now: number): number {
    // The latest due tick (the walk is bounded: after a long outage of a per-second schedule the count is a floor).
    let tick = entry.nextTick;
    let earlier = 0;
    for (let next = entry.timing.next(tick); next <= now && earlier < 100_000; next = entry.timing.next(tick)) {
      tick = next;
      earlier++;
    }
    const misfire = tick < this.upSince;
    let ran = 0;
    if (misfire && entry.spec.misfire === MisfirePolicy.SKIP) {
      this.skip(entry, tick, `missed while the control plane was down (misfire policy skip)`);
      this.logger.info({ schedule: entry.spec.id, tick: iso(tick), missed: earlier + 1 }, `schedule ${entry.spec.id}: skipped ${earlier + 1} tick(s) missed while the control plane was down (latest ${iso(tick)}; misfire policy skip)`);
    } else if (!this.previousUnfinished(entry, now) || entry.spec.overlap === OverlapPolicy.ALLOW) {
      const note = misfire ? `missed while the control plane was down; ran once at recovery (misfire policy run-once${earlier > 0 ? `, ${earlier} earlier tick(s) skipped` : ""})` : "";
      if (!this.submit(entry, tick, now, false, note)) return 0; // shutting down: the tick stays due
      if (misfire) this.logger.info({ schedule: entry.spec.id, tick: iso(tick), missed: earlier + 1 }, `schedule ${entry.spec.id}: ran tick ${iso(tick)} once at recovery for ${earlier + 1} tick(s) missed while the control plane was down (misfire policy run-once)`);
      ran = 1;
    } else if (entry.spec.overlap === OverlapPolicy.QUEUE_ONE && entry.waitingTick === 0) {
      entry.waitingTick = tick;
    } else {
      this.skip(entry, tick, `the previous run ${entry.lastTaskId} is still ${this.previousState(entry, now)} (overlap policy ${entry.spec.overlap === OverlapPolicy.SKIP ? "skip" : "queue-one, and a tick already waits"})`);
    }
    entry.skippedTotal += earlier;
    entry.lastTick = tick;
    entry.nextTick = entry.timing.next(Math.max(tick, now));
    this.plane.schedules.save(entry);
    return ran;
  }

  /** Submits one tick's task; false when the control plane takes no tasks (shutting down). */
  private submit(entry: ScheduleEntry, tick: number, now: number, manual: boolean, note: string): boolean {
    try {
      this.submitTask(entry, tick, now, manual, note);
      return true;
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      if (err.code === Code.Unavailable) return false;
      // Refused (e.g. the args no longer match a task already made for this tick, or admission control): recorded, not retried.
      entry.lastRun = { tick, taskId: "", state: TaskState.UNSPECIFIED, note: `not submitted: ${err.rawMessage}`, manual };
      entry.skippedTotal++;
      this.logger.warn({ schedule: entry.spec.id, tick: iso(tick), err: err.rawMessage }, `schedule ${entry.spec.id}: the task for tick ${iso(tick)} was refused`);
      return true;
    }
  }

  private submitTask(entry: ScheduleEntry, tick: number, now: number, manual: boolean, note = ""): string {
    const spec = entry.spec;
    const outcome = this.plane.submit(
      {
        name: spec.task,
        argsJson: spec.argsJson,
        priority: spec.priority,
        delayMs: 0,
        options: {
          // A tick is one task, whatever happens: the key is the schedule and the tick.
          ...(manual ? {} : { idempotencyKey: `schedule:${spec.id}@${iso(tick)}` }),
          metadata: { ...spec.metadata, [SCHEDULE_METADATA]: spec.id, [TICK_METADATA]: iso(tick) },
        },
      },
      now,
    );
    entry.lastRun = { tick, taskId: outcome.id, state: outcome.state, note: outcome.deduplicated ? "this tick's task already existed" : note, manual };
    entry.lastTaskId = outcome.id;
    entry.runsTotal++;
    return outcome.id;
  }

  private skip(entry: ScheduleEntry, tick: number, note: string): void {
    entry.skippedTotal++;
    entry.lastRun = { tick, taskId: "", state: TaskState.UNSPECIFIED, note: `skipped: ${note}`, manual: false };
  }

  private previousUnfinished(entry: ScheduleEntry, now: number): boolean {
    const id = entry.lastTaskId;
    if (!id) return false;
    const task = this.plane.store.get(id, now);
    return task !== undefined && !isFinalState(task.state);
  }

  private previousState(entry: ScheduleEntry, now: number): string {
    const task = entry.lastTaskId ? this.plane.store.get(entry.lastTaskId, now) : undefined;
    return task === undefined ? "unknown" : taskStateName(task.state);
  }

  /** A scheduled task ended: its schedule's last run says how; a waiting tick may run now. */
  private taskFinished(task: TaskRecord): void {
    const id = task.options.metadata?.[SCHEDULE_METADATA];
    if (id === undefined) return;
    const entry = this.plane.schedules.get(id);
    if (entry === undefined) return;
    if (entry.lastRun?.taskId === task.id) {
      entry.lastRun.state = task.state;
      if (task.error !== undefined) entry.lastRun.note = task.error.message;
      this.plane.schedules.save(entry);
    }
    if (entry.waitingTick > 0) this.wake();
  }

  private arm(now: number): void {
    if (!this.running) return;
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.plane.schedules.list()) if (!entry.paused && entry.nextTick < next) next = entry.nextTick;
    this.timer.set(next, now);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
