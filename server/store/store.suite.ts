import { describe, expect, it } from "vitest";
import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskStore } from "./store.js";
import { NO_OPTIONS, TaskRecord, type SubmitOptions } from "../engine/task-record.js";

/** Options every store implementation is constructed with in the suite. */
export interface SuiteStoreOptions {
  resultTtlMs: number;
  maxResults: number;
}

/**
 * The behaviour every TaskStore must have. Run it against each
 * implementation: `storeSuite("MemoryStore", (o) => new MemoryStore(o))`.
 */
export function storeSuite(name: string, makeStore: (options: SuiteStoreOptions) => TaskStore): void {
  let order = 0;
  const make = (taskName: string, priority = Priority.NORMAL, options: SubmitOptions = NO_OPTIONS, now = 1000): TaskRecord =>
    new TaskRecord(`id-${++order}`, taskName, priority, "null", now, order, options);
  const store = (overrides: Partial<SuiteStoreOptions> = {}): TaskStore =>
    makeStore({ resultTtlMs: 60_000, maxResults: 100, ...overrides });
  const drain = (s: TaskStore, names: string[]): string[] => {
    const ids: string[] = [];
    for (let t = s.takeNext(names); t !== undefined; t = s.takeNext(names)) ids.push(t.id);
    return ids;
  };

  describe(`${name} (TaskStore suite)`, () => {
    it("takes tasks by strict priority, FIFO within a priority", () => {
      const s = store();
      const tasks = [make("a", Priority.LOW), make("a", Priority.NORMAL), make("a", Priority.CRITICAL), make("a", Priority.NORMAL), make("a", Priority.HIGH)];
      tasks.forEach((t) => s.insert(t));
      expect(drain(s, ["a"])).toEqual([tasks[2]!.id, tasks[4]!.id, tasks[1]!.id, tasks[3]!.id, tasks[0]!.id]);
      expect(tasks.every((t) => t.state === TaskState.RUNNING)).toBe(true);
    });

    it("takes only tasks whose name the worker serves, oldest first across names", () => {
      const s = store();
      const a1 = make("a");
      const b1 = make("b");
      const c1 = make("c");
      const a2 = make("a");
      [a1, b1, c1, a2].forEach((t) => s.insert(t));
      expect(drain(s, ["b", "a"])).toEqual([a1.id, b1.id, a2.id]);
      expect(s.counts().queued[Priority.NORMAL]).toBe(1);
      expect(drain(s, ["c"])).toEqual([c1.id]);
      expect(drain(s, ["zzz"])).toEqual([]);
    });

    it("puts a re-queued task back at its old place", () => {
      const s = store();
      const [t1, t2, t3] = [make("a"), make("a"), make("a")];
      [t1, t2, t3].forEach((t) => s.insert(t!));
      expect(s.takeNext(["a"])).toBe(t1);
      expect(s.takeNext(["a"])).toBe(t2);
      s.requeue(t2!);
      s.requeue(t1!);
      expect(drain(s, ["a"])).toEqual([t1!.id, t2!.id, t3!.id]);
    });

    it("skips a cancelled queued task and can queue it again later", () => {
      const s = store();
      const [t1, t2] = [make("a"), make("a")];
      s.insert(t1!);
      s.insert(t2!);
      s.setState(t1!, TaskState.CANCELLED);
      expect(s.counts().queued[Priority.NORMAL]).toBe(1);
      expect(s.counts().cancelled).toBe(1);
      s.enqueue(t1!); // a retry: back of the queue
      expect(drain(s, ["a"])).toEqual([t2!.id, t1!.id]);
    });

    it("keeps counts per state consistent", () => {
      const s = store();
      const tasks = Array.from({ length: 5 }, () => make("a"));
      tasks.forEach((t) => s.insert(t));
      s.takeNext(["a"]);
      s.takeNext(["a"]);
      s.setState(tasks[0]!, TaskState.SUCCEEDED);
      tasks[0]!.finishedAt = 1000;
      s.retain(tasks[0]!);
      s.setState(tasks[2]!, TaskState.CANCELLED);
      expect(s.counts()).toEqual({ queued: [0, 0, 0, 2, 0], scheduled: 0, running: 1, succeeded: 1, failed: 0, cancelled: 1 });
    });

    it("forgets results after their TTL, and the oldest beyond maxResults", () => {
      const s = store({ resultTtlMs: 1000, maxResults: 2 });
      const done = Array.from({ length: 3 }, () => make("a"));
      done.forEach((t, i) => {
        s.insert(t);
        s.takeNext(["a"]);
        s.setState(t, TaskState.SUCCEEDED);
        t.finishedAt = 10_000 + i;
        s.retain(t);
      });
      expect(s.sweep(10_100)).toBe(1);
      expect(s.get(done[0]!.id, 10_100)).toBeUndefined();
      expect(s.get(done[1]!.id, 10_100)).toBe(done[1]);
      expect(s.get(done[1]!.id, 11_001)).toBeUndefined(); // TTL passed, even before a sweep
      expect(s.sweep(11_100)).toBe(1);
      expect(s.counts().succeeded).toBe(0);
    });

    it("finds tasks by idempotency key while they are retained", () => {
      const s = store({ resultTtlMs: 1000 });
      const t = make("a", Priority.NORMAL, { idempotencyKey: "k1" });
      s.insert(t);
      expect(s.getByKey("k1", 1000)).toBe(t);
      s.takeNext(["a"]);
      s.setState(t, TaskState.SUCCEEDED);
      t.finishedAt = 2000;
      s.retain(t);
      expect(s.getByKey("k1", 2500)).toBe(t);
      expect(s.getByKey("k1", 3000)).toBeUndefined();
    });

    it("lists newest first with filters, pages and totals", () => {
      const s = store();
      const tasks = Array.from({ length: 7 }, (_, i) => make(i % 2 === 0 ? "even" : "odd", i === 6 ? Priority.HIGH : Priority.NORMAL));
      tasks.forEach((t) => s.insert(t));
      const page1 = s.list({}, undefined, 3, 1000);
      expect(page1.tasks.map((t) => t.id)).toEqual([tasks[6]!.id, tasks[5]!.id, tasks[4]!.id]);
      expect(page1.total).toBe(7);
      const page2 = s.list({}, page1.nextCursor, 3, 1000);
      expect(page2.tasks.map((t) => t.id)).toEqual([tasks[3]!.id, tasks[2]!.id, tasks[1]!.id]);
      const page3 = s.list({}, page2.nextCursor, 3, 1000);
      expect(page3.tasks.map((t) => t.id)).toEqual([tasks[0]!.id]);
      expect(page3.nextCursor).toBeUndefined();
      expect(s.list({ name: "odd" }, undefined, 10, 1000).total).toBe(3);
      expect(s.list({ priority: Priority.HIGH }, undefined, 10, 1000).tasks).toEqual([tasks[6]]);
      expect(s.list({ idPrefix: tasks[3]!.id }, undefined, 10, 1000).tasks).toEqual([tasks[3]]);
      s.takeNext(["even"]);
      expect(s.list({ states: [TaskState.RUNNING] }, undefined, 10, 1000)).toMatchObject({ tasks: [tasks[6]], total: 1 });
    });
  });
}
