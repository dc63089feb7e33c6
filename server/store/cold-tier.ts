import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { setArgsBytes, writable } from "./internal/writable.js";
import { decodeTask, encodeTask } from "./record-codec.js";
import type { LogValue, LogWrite, SyncReads } from "./state-log.js";
import type { TaskRecord } from "./task-record.js";

/** TaskRecord.slot of a new cold task whose record has not been cut for the log yet. */
const COLD_NEW = -3;
/** TaskRecord.slot of a cold task whose record is (also) in memory. */
const COLD_KEPT = -2;
/** Base-36 digits of creation orders and queue positions in cold keys (fixed width: keys sort by them). */
const WIDTH = 11;
const LEVELS = 5;

/** How the cold tier reaches the store's in-memory records (its history, and ids from earlier runs). */
export interface ColdMemory {
  /** The record of the task created `order`-th, if it is in memory. */
  inMemory(order: number): TaskRecord | undefined;
  /** Keeps a record read from disk in memory (in its place in the history, and by id). */
  keep(task: TaskRecord): void;
  /** Lets a record go: only its order stays in memory (the record is on disk). */
  release(task: TaskRecord): void;
}

/** The cold tasks of one task name and priority. */
class ColdLane {
  /** Cold tasks (on disk, or in {@link mem}). */
  count = 0;
  /** Their args' UTF-8 bytes (admission control counts them). */
  bytes = 0;
  /**
   * Cold tasks in memory and not (durably) in the cold collection, by
   * queueSeq: new ones whose batch is not durable yet, and tasks queued
   * again (a retry, a delay ending) behind the cold ones, whose records are
   * in "tasks".
   */
  mem: TaskRecord[] = [];
  /** The last key read back: the keys up to it were taken. */
  cursor: string;
  /** The smallest queueSeq on disk at start: queued tasks recovered after it wait behind the cold ones. */
  firstSeq = Number.POSITIVE_INFINITY;
  readonly end: string;

  constructor(
    readonly name: string,
    readonly priority: number,
    /** The keys of this lane start with it: `name \0 priority`. */
    readonly prefix: string,
  ) {
    this.cursor = prefix;
    this.end = `${prefix}\uffff`;
  }
}

/**
 * The cold tier of a durable store's queue: past `hotQueued` queued tasks in
 * memory, a new task of a name and priority whose in-memory FIFO holds
 * enough is not kept in memory. Its record goes to the "cold" collection
 * (instead of "tasks"), keyed `name \0 priority, order, queueSeq, args
 * bytes` (fixed-width base 36, so keys sort in queue order), and once that
 * write is durable only its creation order stays, in the history. Per name
 * and priority the tier keeps counts and bytes; when the in-memory FIFO
 * runs low (below {@link refillBelow}), the next chunk is read back in order
 * ({@link take}) and queued behind it.
 *
 * The invariants that keep dispatch exact:
 * - every cold task of a lane is younger (queueSeq) than every task of that
 *   lane in memory: while a lane has cold tasks, new ones go cold too, and
 *   a task queued again (a retry) waits behind them in {@link ColdLane.mem};
 * - a lane goes cold only while its in-memory FIFO holds `refillBelow`
 *   tasks, and is topped up whenever it drops below: so while a lane has
 *   cold tasks it has queued tasks in memory, and strict priority across
 *   names holds (a take never passes a priority whose tasks are all cold).
 *
 * A cold task found by id (GetTask, CancelTask, a bulk action) is read from
 * disk and *pinned*: kept in memory until it leaves the tier, so whoever
 * holds the record (a follower, a cancel) holds the one the queue will use.
 * A cold task leaving QUEUED (cancelled, adopted) or read back into memory
 * keeps its disk entry until its record is next written to "tasks": the
 * delete rides in the same batch, so a task is in exactly one of the two
 * collections after any crash.
 */
export class ColdTier {
  /** Cold tasks per priority, index = Priority. */
  readonly counts: number[] = new Array<number>(LEVELS).fill(0);
  /** Their args' UTF-8 bytes. */
  bytes = 0;
  /** A lane's in-memory FIFO is topped up when it holds fewer than this. */
  readonly refillBelow: number;
  /** How many tasks a top-up reads at most. */
  readonly chunk: number;
  private readonly lanes = new Map<string, ColdLane>();
  /** In-memory records with an entry in the cold collection, and its key. */
  private readonly onDisk = new Map<TaskRecord, string>();
  /** Cold records found by id: kept in memory until they leave the tier. */
  private readonly pinned = new Set<TaskRecord>();
  /** The records in some lane's {@link ColdLane.mem}. */
  private readonly inMem = new Set<TaskRecord>();

  constructor(
    private readonly reads: SyncReads,
    /** The most queued tasks kept in memory before new ones go cold (lanes may hold `refillBelow` more each). */
    readonly hotQueued: number,
    private readonly memory: ColdMemory,
  ) {
    this.refillBelow = Math.min(256, Math.max(1, hotQueued >> 2));
    this.chunk = Math.min(1024, Math.max(1, hotQueued >> 1));
  }

  /** All cold tasks. */
  get total(): number {
    return this.counts[1]! + this.counts[2]! + this.counts[3]! + this.counts[4]!;
  }

  /** Cold tasks of a name and priority. */
  countOf(name: string, priority: number): number {
    return this.lanes.get(prefixOf(name, priority))?.count ?? 0;
  }

  /** Whether a task is QUEUED in the cold tier (not in the in-memory queues). */
  isCold(task: TaskRecord): boolean {
    return task.state === TaskState.QUEUED && (task.slot === COLD_NEW || task.slot === COLD_KEPT);
  }

  /** A new cold task whose record goes to the cold collection at the next cut. */
  isNew(task: TaskRecord): boolean {
    return task.state === TaskState.QUEUED && task.slot === COLD_NEW;
  }

  /**
   * Whether the task waits in the cold tier with its record in the cold
   * collection as it is (not a task that left, nor one queued again behind
   * the cold ones: those records are written to "tasks").
   */
  isOnDiskOnly(task: TaskRecord): boolean {
    return this.isCold(task) && this.onDisk.has(task) && !this.inMem.has(task);
  }

  /** A new task goes cold: written to the cold collection with its batch, let go once that is durable. */
  addNew(task: TaskRecord): void {
    this.add(task, COLD_NEW);
  }

  /** A task queued again (a retry, a delay ending) while its lane has cold tasks: it waits behind them, in memory. */
  addBehind(task: TaskRecord): void {
    this.add(task, COLD_KEPT);
  }

  /** Whether a queued task recovered from "tasks" was queued after its lane's cold tasks (so waits behind them). */
  isBehind(task: TaskRecord): boolean {
    const lane = this.lanes.get(prefixOf(task.name, task.priority));
    return lane !== undefined && lane.count > 0 && task.queueSeq > lane.firstSeq;
  }

  /** A cold task leaves QUEUED (cancelled, adopted): out of the tier; its disk entry goes with its record's next write. */
  remove(task: TaskRecord): void {
    const lane = this.lanes.get(prefixOf(task.name, task.priority))!;
    this.uncount(lane, task);
    if (this.inMem.delete(task)) lane.mem.splice(lane.mem.indexOf(task), 1);
  }

  /** Keeps a cold record in memory while it stays cold (someone holds it). */
  pin(task: TaskRecord): void {
    if (this.isCold(task)) this.pinned.add(task);
  }

  /** At a cut: the write of a new cold task into the cold collection; from this batch on it is on disk. */
  cutNew(task: TaskRecord): LogWrite {
    const key = keyOf(task);
    writable(task).slot = COLD_KEPT;
    this.onDisk.set(task, key);
    return { collection: "cold", key, value: [task.id, encodeTask(task)] };
  }

  /** The delete of a task's cold entry, once it is written to "tasks" or dropped (undefined: it has none). */
  forget(task: TaskRecord): LogWrite | undefined {
    const key = this.onDisk.get(task);
    if (key === undefined) return undefined;
    this.onDisk.delete(task);
    return { collection: "cold", key, value: undefined };
  }

  /** A batch holding these new cold tasks is durable: they are on disk, and let go unless someone holds them. */
  durable(written: readonly TaskRecord[]): void {
    const lanes = new Set<ColdLane>();
    for (const task of written) {
      if (!this.inMem.delete(task)) continue;
      lanes.add(this.lanes.get(prefixOf(task.name, task.priority))!);
      if (this.isCold(task) && !this.pinned.has(task) && task.waiting === undefined) {
        this.onDisk.delete(task);
        this.memory.release(task);
      }
    }
    for (const lane of lanes) lane.mem = lane.mem.filter((t) => this.inMem.has(t));
  }

  /**
   * Takes the oldest cold tasks of a name and priority out of the tier, up
   * to about {@link chunk}, in queue order: read back from disk (a record
   * in memory is used as it is), merged with the lane's in-memory ones. The
   * caller queues them at the back of its in-memory FIFO.
   */
  take(name: string, priority: number): TaskRecord[] {
    const lane = this.lanes.get(prefixOf(name, priority));
    if (lane === undefined || lane.count === 0) return [];
    const fromDisk: TaskRecord[] = [];
    let more = false;
    for (const [key, value] of this.reads.range("cold", { start: `${lane.cursor}\u0000`, end: lane.end, limit: Number.MAX_SAFE_INTEGER })) {
      if (fromDisk.length >= this.chunk) {
        more = true;
        break;
      }
      let task = this.memory.inMemory(orderIn(key, lane.prefix.length));
      if (task !== undefined && !this.isCold(task)) {
        lane.cursor = key; // it left the tier already (cancelled, or taken from memory): its delete is on its way
        continue;
      }
      if (task !== undefined && this.inMem.has(task)) break; // new and not durable yet: taken from memory below, in order
      if (task === undefined) {
        task = this.decode(value);
        this.onDisk.set(task, key);
        this.memory.keep(task);
      }
      lane.cursor = key;
      fromDisk.push(task);
    }
    // Tasks in memory come in between by queueSeq: every one older than the last read from disk, and,
    // when the disk holds no more, younger ones up to the chunk.
    const lastRead = fromDisk.length === 0 ? 0 : fromDisk[fromDisk.length - 1]!.queueSeq;
    let n = 0;
    while (n < lane.mem.length && (lane.mem[n]!.queueSeq < lastRead || (!more && fromDisk.length + n < this.chunk))) n++;
    const fromMem = lane.mem.splice(0, n);
    for (const task of fromMem) {
      this.inMem.delete(task);
      const key = this.onDisk.get(task);
      if (key !== undefined && key > lane.cursor) lane.cursor = key;
    }
    const taken = fromMem.length === 0 ? fromDisk : fromDisk.length === 0 ? fromMem : fromDisk.concat(fromMem).sort((a, b) => a.queueSeq - b.queueSeq);
    for (const task of taken) this.uncount(lane, task);
    return taken;
  }

  /**
   * A cold task's record by creation order, read from disk (undefined if no
   * lane has it, or it is not the task `id` names); `pin` keeps it in memory
   * while it stays cold. One point read per lane with cold tasks.
   */
  find(order: number, pin: boolean, id?: string): TaskRecord | undefined {
    const digits = toDigits(order);
    for (const lane of this.lanes.values()) {
      if (lane.count === 0) continue;
      const start = lane.prefix + digits;
      for (const [key, value] of this.reads.range("cold", { start, end: `${start}\uffff`, limit: 1 })) {
        if (key <= lane.cursor) continue; // taken already (its record is in memory, or gone)
        const task = this.decode(value);
        if (id !== undefined && task.id !== id) return undefined;
        if (pin) this.keepPinned(task, key);
        return task;
      }
    }
    return undefined;
  }

  /**
   * The cold tasks on disk only with creation orders in [lo, hi], by order
   * (a walk of the history reads its chunk's cold records with this):
   * decoded, not kept; {@link pinRead} keeps one. One range read per lane
   * with cold tasks.
   */
  span(lo: number, hi: number): Map<number, TaskRecord> {
    const out = new Map<number, TaskRecord>();
    const from = toDigits(lo);
    const to = toDigits(hi + 1);
    for (const lane of this.lanes.values()) {
      if (lane.count === 0) continue;
      const start = maxKey(lane.prefix + from, `${lane.cursor}\u0000`); // keys up to the cursor were taken
      for (const [key, value] of this.reads.range("cold", { start, end: lane.prefix + to, limit: Number.MAX_SAFE_INTEGER })) {
        const order = orderIn(key, lane.prefix.length);
        if (this.memory.inMemory(order) === undefined) out.set(order, this.decode(value));
      }
    }
    return out;
  }

  /**
   * Up to `limit` cold tasks of a name and priority on disk only, in queue
   * order (a listing in run order reads a lane's first ones with this):
   * decoded, not kept. Forward from key `from` (included; default the
   * lane's first), or backward from before it (default the lane's last);
   * `next` is where the following read goes on, `done` that the lane holds
   * no more that way. Reads at most `limit` entries (tasks whose records are
   * in memory are skipped: a listing finds those in the history).
   */
  readLane(name: string, priority: number, { from, reverse, limit }: { from?: string | undefined; reverse: boolean; limit: number }): { tasks: TaskRecord[]; next: string; done: boolean } {
    const lane = this.lanes.get(prefixOf(name, priority));
    if (lane === undefined || lane.count === 0) return { tasks: [], next: "", done: true };
    const tasks: TaskRecord[] = [];
    const floor = `${lane.cursor}\u0000`; // keys up to the cursor were taken
    const start = reverse ? (from ?? lane.end) : maxKey(from ?? floor, floor);
    let read = 0;
    let next = start;
    for (const [key, value] of this.reads.range("cold", reverse ? { start, end: lane.cursor, limit: limit + 1, reverse } : { start, end: lane.end, limit })) {
      if (reverse && key >= start) continue; // LMDB reads backwards from `start` included
      read++;
      next = reverse ? key : `${key}\u0000`;
      if (this.memory.inMemory(orderIn(key, lane.prefix.length)) === undefined) tasks.push(this.decode(value));
      if (read === limit) break;
    }
    return { tasks, next, done: read < limit };
  }

  /**
   * Where a lane's cold tasks with queueSeq at least `queueSeq` start (a key
   * for {@link readLane}; the lane's end if none): a binary search over
   * creation orders, since keys sort by order and orders and queueSeqs of
   * cold tasks rise together (a task goes cold only when new). About 50
   * point reads.
   */
  seek(name: string, priority: number, queueSeq: number): string {
    const lane = this.lanes.get(prefixOf(name, priority));
    if (lane === undefined) return "";
    const floor = `${lane.cursor}\u0000`;
    const firstFrom = (order: number): string | undefined => {
      for (const [key] of this.reads.range("cold", { start: maxKey(lane.prefix + toDigits(order), floor), end: lane.end, limit: 1 })) return key;
      return undefined;
    };
    const seqIn = (key: string): number => parseInt(key.slice(lane.prefix.length + WIDTH, lane.prefix.length + 2 * WIDTH), 36);
    let last: string | undefined;
    for (const [key] of this.reads.range("cold", { start: lane.end, end: lane.cursor, limit: 1, reverse: true })) last = key;
    if (last === undefined) return lane.end;
    let lo = 0;
    let hi = orderIn(last, lane.prefix.length) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const key = firstFrom(mid);
      if (key === undefined || seqIn(key) >= queueSeq) hi = mid;
      else lo = mid + 1;
    }
    return firstFrom(lo) ?? lane.end;
  }

  /**
   * Keeps a cold record read in this turn by {@link span} or {@link readLane}
   * in memory while it stays cold (pinned: the caller is about to change
   * it); if its task is in memory already, that record.
   */
  pinRead(task: TaskRecord): TaskRecord {
    const kept = this.memory.inMemory(task.order);
    if (kept !== undefined) return kept;
    this.keepPinned(task, keyOf(task));
    return task;
  }

  /** A cold task from an earlier run, by id (its creation order is the id's counter: see TaskIds). */
  findById(id: string): TaskRecord | undefined {
    if (this.total === 0 || !/^[0-9a-z]{17,}$/.test(id)) return undefined;
    return this.find(parseInt(id.slice(10), 36), true, id);
  }

  /**
   * Reads the cold collection's keys (not its records) at start: counts and
   * bytes per lane, and every cold task's creation order, ascending.
   */
  load(): { orders: Float64Array; maxOrder: number; maxQueueSeq: number } {
    let orders = new Float64Array(1024);
    let n = 0;
    let maxQueueSeq = 0;
    let lane: ColdLane | undefined;
    for (const key of this.reads.keys("cold", "", "\uffff")) {
      if (lane === undefined || !key.startsWith(lane.prefix) || key.length < lane.prefix.length + 2 * WIDTH) {
        const zero = key.indexOf("\u0000");
        lane = this.lane(key.slice(0, zero), key.charCodeAt(zero + 1) - 48);
      }
      const at = lane.prefix.length;
      const queueSeq = parseInt(key.slice(at + WIDTH, at + 2 * WIDTH), 36);
      const bytes = parseInt(key.slice(at + 2 * WIDTH), 36);
      if (n === orders.length) {
        const grown = new Float64Array(n * 2);
        grown.set(orders);
        orders = grown;
      }
      orders[n++] = parseInt(key.slice(at, at + WIDTH), 36);
      lane.count++;
      lane.bytes += bytes;
      lane.firstSeq = Math.min(lane.firstSeq, queueSeq);
      this.counts[lane.priority]!++;
      this.bytes += bytes;
      maxQueueSeq = Math.max(maxQueueSeq, queueSeq);
    }
    const sorted = orders.subarray(0, n).sort();
    return { orders: sorted, maxOrder: n === 0 ? 0 : sorted[n - 1]!, maxQueueSeq };
  }

  /** The names and priorities with cold tasks, and how many each. */
  *laneCounts(): IterableIterator<{ name: string; priority: number; count: number }> {
    for (const lane of this.lanes.values()) if (lane.count > 0) yield { name: lane.name, priority: lane.priority, count: lane.count };
  }

  private add(task: TaskRecord, slot: number): void {
    const lane = this.lane(task.name, task.priority);
    writable(task).slot = slot;
    lane.mem.push(task);
    this.inMem.add(task);
    lane.count++;
    lane.bytes += task.argsBytes;
    this.counts[task.priority]!++;
    this.bytes += task.argsBytes;
  }

  private keepPinned(task: TaskRecord, key: string): void {
    writable(task).slot = COLD_KEPT;
    this.onDisk.set(task, key);
    this.pinned.add(task);
    this.memory.keep(task);
  }

  private uncount(lane: ColdLane, task: TaskRecord): void {
    lane.count--;
    lane.bytes -= task.argsBytes;
    this.counts[task.priority]!--;
    this.bytes -= task.argsBytes;
    this.pinned.delete(task);
    writable(task).slot = -1;
  }

  private lane(name: string, priority: number): ColdLane {
    const prefix = prefixOf(name, priority);
    let lane = this.lanes.get(prefix);
    if (lane === undefined) this.lanes.set(prefix, (lane = new ColdLane(name, priority, prefix)));
    return lane;
  }

  private decode(value: LogValue): TaskRecord {
    const [id, record] = value as readonly [string, LogValue];
    const task = decodeTask(id, record, (key) => this.reads.get("args", key) as string | undefined);
    setArgsBytes(task, Buffer.byteLength(task.argsJson, "utf8"));
    return task;
  }
}

function prefixOf(name: string, priority: number): string {
  return `${name}\u0000${priority}`;
}

/** A number in a key: fixed-width base 36, so keys sort by it. */
function toDigits(n: number): string {
  return n.toString(36).padStart(WIDTH, "0");
}

/** A cold task's key: its lane, then creation order and queueSeq (fixed width), then its args' bytes. */
function keyOf(task: TaskRecord): string {
  return `${prefixOf(task.name, task.priority)}${toDigits(task.order)}${toDigits(task.queueSeq)}${task.argsBytes.toString(36)}`;
}

function maxKey(a: string, b: string): string {
  return a > b ? a : b;
}

function orderIn(key: string, at: number): number {
  return parseInt(key.slice(at, at + WIDTH), 36);
}
