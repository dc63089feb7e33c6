import { Code, ConnectError } from "@connectrpc/connect";
import { ScheduleSource } from "../../gen/fastworker/v1/schedule_pb.js";
import type { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskDefinition } from "../../gen/fastworker/v1/worker_service_pb.js";
import type { LogValue } from "../store/state-log.js";
import type { TaskStore } from "../store/task-store.js";
import { decodeSpec, describeTiming, encodeSpec, sameSpec, specFromMessage, timingOf, type ScheduleSpecData } from "./schedule-spec.js";
import type { ScheduleTiming } from "../../common/schedule-timing.js";

/** One tick of a schedule and what came of it. */
export interface ScheduleRunData {
  tick: number;
  /** "" when the tick made no task. */
  taskId: string;
  /** As last seen (0 when skipped). */
  state: TaskState;
  note: string;
  manual: boolean;
}

/** A schedule with its state. Fields change only through {@link ScheduleRegistry} and the tick loop. */
export class ScheduleEntry {
  timing: ScheduleTiming;
  paused = false;
  /** The latest tick handled (run or skipped); 0 before the first. */
  lastTick = 0;
  /** The next tick to handle. */
  nextTick = 0;
  lastRun: ScheduleRunData | undefined;
  /** The task the latest submitted tick made (the overlap policies look at it; a skipped tick does not replace it). */
  lastTaskId = "";
  runsTotal = 0;
  skippedTotal = 0;
  /** A tick waiting for the previous run to end (overlap "queue one"); 0: none. */
  waitingTick = 0;
  conflict = "";
  /** Who declared it last (a worker's name), for conflict reports. */
  declaredBy = "";

  constructor(
    public spec: ScheduleSpecData,
    readonly source: ScheduleSource,
    readonly createdAt: number,
  ) {
    this.timing = timingOf(spec);
  }
}

/** What {@link ScheduleRegistry} works with. */
export interface ScheduleRegistryDeps {
  store: TaskStore;
  maxPayloadBytes: number;
  /** Told when a schedule appeared, changed timing, or was resumed, so the tick loop re-arms its timer. */
  changed(): void;
  /** Told when workers declare a schedule id differently (or an API schedule's id). */
  conflict(id: string, message: string): void;
}

/**
 * Every schedule, by id: those declared in task modules (sent by workers
 * when they register, merged by id) and those made through ScheduleService.
 * Each is stored in the "schedules" collection with its last tick, so a
 * restart goes on where it stopped. The tick loop (ScheduleTicker) turns due
 * ticks into tasks.
 *
 * Merging declarations: the same id with the same spec is one schedule
 * however many workers declare it. A different spec for a declared id is a
 * conflict: the latest registration wins (as for task definitions, so a
 * rolling deploy changes a schedule) and the conflict is logged and shown on
 * the schedule. A declaration never replaces a schedule made through the API.
 */
export class ScheduleRegistry {
  private readonly byId = new Map<string, ScheduleEntry>();

  constructor(private readonly d: ScheduleRegistryDeps) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): ScheduleEntry | undefined {
    return this.byId.get(id);
  }

  /** A schedule by id, or NOT_FOUND. */
  find(id: string): ScheduleEntry {
    const entry = this.byId.get(id);
    if (entry === undefined) throw new ConnectError(`no schedule ${JSON.stringify(id)}; fw schedule ls lists them`, Code.NotFound);
    return entry;
  }

  /** Every schedule, by id. */
  list(): ScheduleEntry[] {
    return [...this.byId.values()].sort((a, b) => a.spec.id.localeCompare(b.spec.id));
  }

  /** A schedule made through the API; ALREADY_EXISTS when the id is taken. */
  create(spec: ScheduleSpecData, paused: boolean, now: number): ScheduleEntry {
    if (this.byId.has(spec.id)) {
      throw new ConnectError(`a schedule with id ${JSON.stringify(spec.id)} exists; delete it first (fw schedule rm ${spec.id}) or pick another id`, Code.AlreadyExists);
    }
    const entry = new ScheduleEntry(spec, ScheduleSource.API, now);
    entry.paused = paused;
    entry.nextTick = entry.timing.next(now);
    this.byId.set(spec.id, entry);
    this.save(entry);
    this.d.changed();
    return entry;
  }

  /** Takes the schedules a registering worker declared (validated already). */
  declare(definitions: readonly TaskDefinition[], worker: string, now: number): void {
    let changed = false;
    for (const definition of definitions) {
      for (const message of definition.schedules) {
        const spec = specFromMessage(message, { maxPayloadBytes: this.d.maxPayloadBytes, declaredBy: definition.name });
        const existing = this.byId.get(spec.id);
        if (existing === undefined) {
          const entry = new ScheduleEntry(spec, ScheduleSource.DECLARED, now);
          entry.nextTick = entry.timing.next(now);
          entry.declaredBy = worker;
          this.byId.set(spec.id, entry);
          this.save(entry);
          changed = true;
        } else if (existing.source === ScheduleSource.API) {
          if (!sameSpec(existing.spec, spec)) {
            this.conflict(existing, `worker ${worker} declares schedule "${spec.id}" as ${describeSpec(spec)}; the one made through the API (${describeSpec(existing.spec)}) stays in force`);
          }
        } else if (!sameSpec(existing.spec, spec)) {
          const before = existing.spec;
          existing.spec = spec;
          existing.timing = timingOf(spec);
          existing.nextTick = existing.timing.next(Math.max(now, existing.lastTick));
          this.conflict(existing, `declared as ${describeSpec(before)} by ${existing.declaredBy || "an earlier worker"}, and as ${describeSpec(spec)} by ${worker}, whose declaration is in force (the latest registration wins)`);
          existing.declaredBy = worker;
          changed = true;
        } else {
          existing.declaredBy = worker;
        }
      }
    }
    if (changed) this.d.changed();
  }

  pause(id: string): ScheduleEntry {
    const entry = this.find(id);
    if (!entry.paused) {
      entry.paused = true;
      entry.waitingTick = 0;
      this.save(entry);
    }
    return entry;
  }

  /** Resumes at the next tick after now (ticks while paused are not made up). */
  resume(id: string, now: number): ScheduleEntry {
    const entry = this.find(id);
    if (entry.paused) {
      entry.paused = false;
      entry.nextTick = entry.timing.next(Math.max(now, entry.lastTick));
      this.save(entry);
      this.d.changed();
    }
    return entry;
  }

  delete(id: string): void {
    this.find(id);
    this.byId.delete(id);
    this.d.store.saveRecord("schedules", id, undefined);
  }

  /** Writes a schedule's record (with the next group commit). */
  save(entry: ScheduleEntry): void {
    this.d.store.saveRecord("schedules", entry.spec.id, encodeEntry(entry));
  }

  /** Schedules read back from the state log (at start). A record that no longer reads (a bad cron after an upgrade) is skipped and reported. */
  restore(records: ReadonlyMap<string, LogValue>): void {
    for (const [id, value] of records) {
      try {
        const entry = decodeEntry(value);
        this.byId.set(id, entry);
      } catch (err) {
        this.d.conflict(id, `the stored schedule cannot be read back (${(err as Error).message}); it is ignored`);
      }
    }
  }

  private conflict(entry: ScheduleEntry, message: string): void {
    entry.conflict = message;
    this.save(entry);
    this.d.conflict(entry.spec.id, message);
  }
}

function describeSpec(spec: ScheduleSpecData): string {
  return `${describeTiming(spec)} → ${spec.task}(${spec.argsJson.length > 60 ? `${spec.argsJson.slice(0, 57)}...` : spec.argsJson})`;
}

function encodeEntry(e: ScheduleEntry): LogValue {
  const run = e.lastRun;
  return {
    s: encodeSpec(e.spec),
    src: e.source,
    p: e.paused,
    lt: e.lastTick,
    nt: e.nextTick,
    lr: run === undefined ? null : [run.tick, run.taskId, run.state, run.note, run.manual],
    rt: e.runsTotal,
    st: e.skippedTotal,
    wt: e.waitingTick,
    c: e.conflict,
    ca: e.createdAt,
    by: e.declaredBy,
    lti: e.lastTaskId,
  };
}

function decodeEntry(value: LogValue): ScheduleEntry {
  const v = value as {
    s: LogValue; src: ScheduleSource; p: boolean; lt: number; nt: number; lr: [number, string, TaskState, string, boolean] | null;
    rt: number; st: number; wt: number; c: string; ca: number; by: string; lti?: string;
  };
  const entry = new ScheduleEntry(decodeSpec(v.s), v.src, v.ca);
  entry.paused = v.p;
  entry.lastTick = v.lt;
  entry.nextTick = v.nt;
  entry.lastRun = v.lr === null ? undefined : { tick: v.lr[0], taskId: v.lr[1], state: v.lr[2], note: v.lr[3], manual: v.lr[4] };
  entry.runsTotal = v.rt;
  entry.skippedTotal = v.st;
  entry.waitingTick = v.wt;
  entry.conflict = v.c;
  entry.declaredBy = v.by;
  entry.lastTaskId = v.lti ?? "";
  return entry;
}
