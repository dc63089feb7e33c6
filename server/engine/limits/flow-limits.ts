import type { TaskDefinition } from "../../../gen/fastworker/v1/worker_service_pb.js";
import type { LogValue } from "../../store/state-log.js";
import type { TaskRecord } from "../../store/task-record.js";
import type { TaskStore } from "../../store/task-store.js";
import { keySourceText, keyValue } from "./limit-key.js";
import {
  decodeLimit,
  effectiveLimit,
  encodeLimit,
  formatWindow,
  limitFromMessage,
  type EffectiveLimit,
  type LimitSpec,
} from "./limit-spec.js";
import { LimitWakeups } from "./limit-wakeups.js";
import { TokenBucket } from "./token-bucket.js";

/** What {@link FlowLimits} works with. */
export interface FlowLimitsDeps {
  store: TaskStore;
  /** Asks for a dispatch round: a lane's tasks became takeable. */
  wakeDispatcher(): void;
  /** Tasks of a name running now (counted when a limit appears while they run). */
  running(name: string): Iterable<TaskRecord>;
}

/** One lane's usage, for listings. */
export interface LaneUsage {
  key: string;
  running: number;
  waiting: number;
  tokens: number | undefined;
  nextStartAt: number;
}

/** A limited task name: its limits and their use. */
export interface LimitState {
  name: string;
  declared: LimitSpec | undefined;
  override: LimitSpec | undefined;
  effective: EffectiveLimit | undefined;
  running: number;
  waiting: number;
  /** The busiest lanes, most running first (at most 20). */
  lanes: LaneUsage[];
  lanesTotal: number;
}

/** One lane: the name, or one value of its limit key. */
class Lane {
  readonly running = new Set<TaskRecord>();
  bucket: TokenBucket | undefined;
  /** Why its queued tasks are parked now. */
  blocked: "concurrency" | "rate" | undefined;
  /** The wake-up it waits for (0: none). */
  wakeAt = 0;

  constructor(
    readonly name: string,
    readonly key: string,
  ) {}
}

class NameLimit {
  declared: LimitSpec | undefined;
  override: LimitSpec | undefined;
  effective: EffectiveLimit | undefined;
  readonly lanes = new Map<string, Lane>();

  constructor(readonly name: string) {}
}

const MAX_LISTED_LANES = 20;

/**
 * Per-task-name flow limits (at most N running, at most M starts per
 * window, optionally per key value), enforced for all workers at once by the
 * control plane's dispatcher.
 *
 * How: each limited name, or each value of its key, is a lane. A start
 * (admit) counts the task in its lane and takes a rate token; when the lane
 * is full (N running) or out of tokens it is parked in the store's queues,
 * where the dispatcher skips it at no cost, so a blocked lane never holds up
 * other names, other keys or lower priorities, and no blocked task is ever
 * taken and put back. A task leaving RUNNING (finished, retrying, lost,
 * handed back, cancelled) frees its slot and may unpark the lane; a rate
 * lane is woken by a timer when its next token is due (LimitWakeups).
 * Parked tasks stay QUEUED, with a status message saying why and until when.
 *
 * Limits come from task definitions (declared by workers, the latest
 * registration wins) and runtime overrides (LimitService), which win field
 * by field; both are saved in the store's "limits" collection.
 */
export class FlowLimits {
  /** The loop that wakes rate-limited lanes; the server's Supervisor runs it. */
  readonly wakeups = new LimitWakeups<Lane>((lane, at, now) => this.wake(lane, at, now));
  private readonly byName = new Map<string, NameLimit>();
  private readonly runningLane = new Map<TaskRecord, Lane>();

  constructor(private readonly d: FlowLimitsDeps) {}

  /** Takes the limits that registering workers declared with their definitions (validated already). */
  declare(definitions: readonly TaskDefinition[], now: number): void {
    for (const definition of definitions) {
      const spec = limitFromMessage(definition.limit, `task "${definition.name}"`, false);
      const declared = spec !== undefined && Object.keys(spec).length > 0 ? spec : undefined;
      const current = this.byName.get(definition.name);
      if (JSON.stringify(encodeLimit(declared)) === JSON.stringify(encodeLimit(current?.declared))) continue;
      this.entry(definition.name).declared = declared;
      this.changed(definition.name, now);
    }
  }

  /** Overrides a name's limits at run time (field by field); saved. */
  setOverride(name: string, override: LimitSpec, now: number): LimitState {
    this.entry(name).override = override;
    this.changed(name, now);
    return this.state(name, now);
  }

  /** Drops a name's override: its declared limits apply again. */
  clearOverride(name: string, now: number): LimitState {
    const entry = this.byName.get(name);
    if (entry !== undefined && entry.override !== undefined) {
      entry.override = undefined;
      this.changed(name, now);
    }
    return this.state(name, now);
  }

  /** Limits read back from the state log (at start, before running tasks are adopted). */
  restore(records: ReadonlyMap<string, LogValue>, now: number): void {
    for (const [name, value] of records) {
      const v = value as { d?: LogValue; o?: LogValue };
      const entry = this.entry(name);
      entry.declared = decodeLimit(v.d);
      entry.override = decodeLimit(v.o);
      this.apply(entry, now);
    }
  }

  /** A task of a limited name starts (the dispatcher took it): count it, take a token, park its lane if now full. */
  admit(task: TaskRecord, now: number): void {
    const entry = this.byName.get(task.name);
    if (entry?.effective === undefined) return;
    const lane = this.count(entry, task, now, true);
    if (lane !== undefined) this.check(entry, lane, now);
  }

  /** A task found running (after a restart, or adopted from a worker): counted, without a token. */
  adopt(task: TaskRecord, now: number): void {
    const entry = this.byName.get(task.name);
    if (entry?.effective === undefined) return;
    const lane = this.count(entry, task, now, false);
    if (lane !== undefined) this.check(entry, lane, now);
  }

  /** A task left RUNNING (or never was there): frees its slot, which may unpark its lane. */
  left(task: TaskRecord, now: number): void {
    const lane = this.runningLane.get(task);
    if (lane === undefined) return;
    this.runningLane.delete(task);
    lane.running.delete(task);
    const entry = this.byName.get(lane.name);
    if (entry !== undefined && entry.lanes.get(lane.key) === lane && entry.effective !== undefined) this.check(entry, lane, now);
  }

  /** Why a queued task is held back by its name's limit, or undefined when it is not. */
  blockedReason(task: TaskRecord, now: number): string | undefined {
    const entry = this.byName.get(task.name);
    const limit = entry?.effective;
    const lane = entry?.lanes.get(task.laneKey);
    if (limit === undefined || lane?.blocked === undefined) return undefined;
    const scope = limit.key === undefined ? "" : ` with ${keySourceText(limit.key)} = ${JSON.stringify(lane.key)}`;
    if (lane.blocked === "concurrency") {
      return `held back by its concurrency limit: ${lane.running.size} of at most ${limit.concurrency} "${task.name}" tasks${scope} running; it starts when one ends`;
    }
    const inSeconds = Math.max(0, (lane.wakeAt - now) / 1000).toFixed(1);
    return `held back by its rate limit (${limit.rate!.max} "${task.name}" starts per ${formatWindow(limit.rate!.perMs)}${scope}); the next may start in ${inSeconds}s`;
  }

  /** Every name with limits (declared or overridden), with their use. */
  list(now: number): LimitState[] {
    return [...this.byName.keys()].sort().map((name) => this.state(name, now));
  }

  /** One name's limits and their use (an unlimited name: all undefined, zero use). */
  state(name: string, now: number): LimitState {
    const entry = this.byName.get(name);
    const parked = this.d.store.parkedCounts(name);
    const lanes: LaneUsage[] = [];
    let running = 0;
    for (const lane of entry?.lanes.values() ?? []) {
      running += lane.running.size;
      lanes.push({
        key: lane.key,
        running: lane.running.size,
        waiting: parked.get(lane.key) ?? 0,
        tokens: lane.bucket?.available(now),
        nextStartAt: lane.blocked === "rate" ? lane.wakeAt : 0,
      });
    }
    lanes.sort((a, b) => b.running - a.running || b.waiting - a.waiting || a.key.localeCompare(b.key));
    let waiting = 0;
    for (const n of parked.values()) waiting += n;
    return {
      name,
      declared: entry?.declared,
      override: entry?.override,
      effective: entry?.effective,
      running,
      waiting,
      lanes: lanes.slice(0, MAX_LISTED_LANES),
      lanesTotal: lanes.length,
    };
  }

  /** A name's limits changed: save them and apply them. */
  private changed(name: string, now: number): void {
    const entry = this.entry(name);
    const gone = entry.declared === undefined && entry.override === undefined;
    this.d.store.saveRecord("limits", name, gone ? undefined : { d: encodeLimit(entry.declared), o: encodeLimit(entry.override) });
    this.apply(entry, now);
    if (gone) this.byName.delete(name);
  }

  /** Puts a name's effective limit in force: lanes re-keyed when the key changed, each lane checked again. */
  private apply(entry: NameLimit, now: number): void {
    const before = entry.effective;
    const after = effectiveLimit(entry.declared, entry.override);
    entry.effective = after;
    const keyText = (limit: EffectiveLimit | undefined): string => (limit?.key === undefined ? "" : keySourceText(limit.key));
    if (before === undefined || after === undefined || keyText(before) !== keyText(after)) {
      // Start over: lanes unparked, running tasks counted again in their new lanes.
      const running = before === undefined ? [...this.d.running(entry.name)] : [...entry.lanes.values()].flatMap((lane) => [...lane.running]);
      for (const lane of entry.lanes.values()) {
        if (lane.blocked !== undefined) this.d.store.unparkLane(entry.name, lane.key);
        for (const task of lane.running) this.runningLane.delete(task);
      }
      entry.lanes.clear();
      if (keyText(before) !== keyText(after)) {
        const key = after?.key;
        this.d.store.setLaneKey(entry.name, key === undefined ? undefined : (task) => keyValue(key, task));
      }
      if (after !== undefined) for (const task of running) this.count(entry, task, now, false);
    } else {
      for (const lane of entry.lanes.values()) {
        if (after.rate === undefined) lane.bucket = undefined;
        else if (lane.bucket === undefined) lane.bucket = new TokenBucket(after.rate.max, after.rate.perMs, now);
        else lane.bucket.reconfigure(after.rate.max, after.rate.perMs, now);
      }
    }
    for (const lane of [...entry.lanes.values()]) this.check(entry, lane, now);
    this.d.wakeDispatcher();
  }

  private count(entry: NameLimit, task: TaskRecord, now: number, takeToken: boolean): Lane | undefined {
    if (this.runningLane.has(task)) return undefined;
    const limit = entry.effective!;
    const key = limit.key === undefined ? "" : keyValue(limit.key, task);
    let lane = entry.lanes.get(key);
    if (lane === undefined) {
      entry.lanes.set(key, (lane = new Lane(entry.name, key)));
      if (limit.rate !== undefined) lane.bucket = new TokenBucket(limit.rate.max, limit.rate.perMs, now);
    }
    lane.running.add(task);
    this.runningLane.set(task, lane);
    if (takeToken) lane.bucket?.take(now);
    return lane;
  }

  /** Parks or unparks a lane for what its limit allows now; forgets an idle lane whose bucket is full. */
  private check(entry: NameLimit, lane: Lane, now: number): void {
    const limit = entry.effective!;
    let blocked: Lane["blocked"];
    let wakeAt = 0;
    if (limit.concurrency !== undefined && lane.running.size >= limit.concurrency) blocked = "concurrency";
    else if (lane.bucket !== undefined && (wakeAt = lane.bucket.nextAt(now)) > now) blocked = "rate";
    if (blocked !== undefined) {
      if (lane.blocked === undefined) this.d.store.parkLane(entry.name, lane.key);
      lane.blocked = blocked;
      if (blocked === "rate") this.wakeAt(lane, wakeAt, now);
      return;
    }
    if (lane.blocked !== undefined) {
      lane.blocked = undefined;
      this.d.store.unparkLane(entry.name, lane.key);
      this.d.wakeDispatcher();
    }
    if (lane.running.size > 0) return;
    // Idle: forget it once its bucket is full (a new lane would start full, so nothing changes).
    if (lane.bucket === undefined || lane.bucket.isFull(now)) entry.lanes.delete(lane.key);
    else this.wakeAt(lane, lane.bucket.fullAt(now), now);
  }

  private wakeAt(lane: Lane, at: number, now: number): void {
    if (lane.wakeAt === at) return;
    lane.wakeAt = at;
    this.wakeups.add(lane, at, now);
  }

  private wake(lane: Lane, at: number, now: number): void {
    if (lane.wakeAt !== at) return; // superseded
    lane.wakeAt = 0;
    const entry = this.byName.get(lane.name);
    if (entry?.effective !== undefined && entry.lanes.get(lane.key) === lane) this.check(entry, lane, now);
  }

  private entry(name: string): NameLimit {
    let entry = this.byName.get(name);
    if (entry === undefined) this.byName.set(name, (entry = new NameLimit(name)));
    return entry;
  }
}
