import { describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { isCollected } from "../../test/helpers/collected.js";
import type { ListOrder, TaskFilter } from "./store.js";
import type { SuiteSubject } from "./store.suite.js";
import { NO_OPTIONS, TaskRecord, type SubmitOptions } from "./task-record.js";
import type { TaskStore } from "./task-store.js";

/**
 * The queue's behaviour past `hotQueued`, run against every kind of store:
 * a store whose log reads synchronously (LMDB) keeps the tasks past the
 * bound on disk only (the cold tier), the others keep them in memory; what
 * the engine sees must be the same. `cold` says the subject has the tier
 * (its records are then let go).
 */
export function coldTierSuite(name: string, subject: SuiteSubject & { cold: boolean }): void {
  const HOT = 8;
  const defaults = { resultTtlMs: 60_000, maxResults: 1000, hotQueued: HOT };
  let order = 0;
  /** A task as the engine makes it: an id of this store's run. */
  const make = (s: TaskStore, taskName: string, priority = Priority.NORMAL, options: SubmitOptions = NO_OPTIONS, args?: string): TaskRecord => {
    const n = ++order;
    return new TaskRecord(s.ids, taskName, priority, args ?? JSON.stringify({ n }), 1000 + n, n, options);
  };
  const drain = (s: TaskStore, names: string[]): string[] => {
    const ids: string[] = [];
    for (let t = s.takeNext(names); t !== undefined; t = s.takeNext(names)) ids.push(t.id);
    return ids;
  };
  /** The order the tasks must run in: strict priority, then submission. */
  const runOrder = (tasks: TaskRecord[]): string[] => [...tasks].sort((a, b) => a.priority - b.priority || a.order - b.order).map((t) => t.id);
  const restart = subject.reopen;
  const durableIt = (title: string, fn: () => Promise<void>): void => {
    if (restart !== undefined) it(title, fn);
  };

  describe(`${name} (queue past hotQueued)`, () => {
    it("keeps strict priority and FIFO across the boundary, with takes in between", async () => {
      const s = await subject.make(defaults);
      const all: TaskRecord[] = [];
      const taken: string[] = [];
      const priorities = [Priority.NORMAL, Priority.HIGH, Priority.LOW, Priority.CRITICAL];
      for (let i = 0; i < 300; i++) {
        const t = make(s, i % 3 === 0 ? "b" : "a", priorities[(i * 7) % 4]!);
        all.push(t);
        s.insert(t);
        if (i % 50 === 49) await s.commit(); // some cold tasks are durable (read back from disk), some are not yet
      }
      expect(s.counts().queued.reduce((a, b) => a + b, 0)).toBe(300);
      expect(s.backlog().tasks).toBe(300);
      // A worker serving only "a", then one serving both.
      for (let i = 0; i < 40; i++) taken.push(s.takeNext(["a"])!.id);
      expect(taken).toEqual(runOrder(all.filter((t) => t.name === "a")).slice(0, 40));
      await s.commit();
      const rest = drain(s, ["a", "b"]);
      expect(rest).toEqual(runOrder(all.filter((t) => !taken.includes(t.id))));
      expect(s.backlog()).toEqual({ tasks: 0, bytes: 0 });
      await s.close();
    });

    it("finds, lists and cancels queued tasks past the bound; a cancelled one is never taken", async () => {
      const s = await subject.make(defaults);
      const tasks = Array.from({ length: 100 }, () => make(s, "a"));
      for (const t of tasks) s.insert(t);
      await s.commit();
      const far = tasks[90]!;
      const found = s.get(far.id, 2000)!;
      expect(found).toMatchObject({ id: far.id, name: "a", state: TaskState.QUEUED, argsJson: far.argsJson, order: far.order });
      expect(s.get(found.id, 2000)).toBe(found); // one record, whoever asks
      s.finish(found, TaskState.CANCELLED, 2000, {});
      expect(s.get(far.id, 2000)!.state).toBe(TaskState.CANCELLED);
      expect(s.counts()).toMatchObject({ cancelled: 1 });
      expect(s.countsOf("a")[TaskState.QUEUED]).toBe(99);
      // Listings see every task, in memory or not.
      const page = await s.list({}, { limit: 20 }, 2000);
      expect(page.total).toBe(100);
      expect(page.tasks.map((t) => t.id)).toEqual(tasks.slice(80).reverse().map((t) => t.id));
      expect(page.tasks.find((t) => t.id === far.id)!.state).toBe(TaskState.CANCELLED);
      const next = await s.list({ states: [TaskState.QUEUED] }, { order: "next", limit: 5 }, 2000);
      expect(next.tasks.map((t) => t.id)).toEqual(tasks.slice(0, 5).map((t) => t.id));
      const text = new RegExp(tasks[95]!.argsJson.replace(/[{}]/g, "\\$&"));
      expect((await s.list({ text }, { limit: 10 }, 2000)).tasks.map((t) => t.id)).toEqual([tasks[95]!.id]);
      expect((await s.matching({ states: [TaskState.QUEUED] }, 2000)).tasks).toHaveLength(99);
      // Filters the tier's counts rule out skip its tasks; the others read them.
      expect((await s.list({ states: [TaskState.CANCELLED] }, { limit: 10 }, 2000)).tasks.map((t) => t.id)).toEqual([far.id]);
      expect((await s.list({ name: "zzz" }, { limit: 10 }, 2000)).tasks).toEqual([]);
      expect((await s.list({ priority: Priority.LOW }, { limit: 10 }, 2000)).tasks).toEqual([]);
      const named = await s.list({ name: "a", states: [TaskState.QUEUED] }, { limit: 200, order: "oldest" }, 2000);
      expect([named.total, named.tasks.length, named.tasks[98]!.id]).toEqual([99, 99, tasks[99]!.id]);
      await s.commit();
      const order = drain(s, ["a"]);
      expect(order).toEqual(tasks.filter((t) => t !== far).map((t) => t.id));
      await s.close();
    });

    it("finds tasks by idempotency key past the bound, and queues a retry behind the waiting tasks", async () => {
      const s = await subject.make(defaults);
      const first = make(s, "a");
      s.insert(first);
      const keyed: TaskRecord[] = [];
      const plain: TaskRecord[] = [];
      for (let i = 0; i < 40; i++) {
        plain.push(make(s, "a"));
        s.insert(plain[i]!);
        keyed.push(make(s, "a", Priority.NORMAL, { idempotencyKey: `k${i}` }));
        s.insert(keyed[i]!);
      }
      await s.commit();
      expect(s.getByKey("a", "k39", 2000)?.task).toBe(keyed[39]);
      // The first task fails and is retried: it queues at the back, behind all 80.
      expect(s.takeNext(["a"])).toBe(first);
      const attempt = s.startAttempt(first, "w1", "worker-1", 1500);
      s.endAttempt(attempt, AttemptOutcome.FAILED, 1600);
      s.finish(first, TaskState.FAILED, 1600, {});
      s.restartSeries(first);
      s.insert(make(s, "a")); // and a new one after it
      await s.commit();
      const order = drain(s, ["a"]);
      expect(order.slice(-2)[0]).toBe(first.id);
      expect(order).toHaveLength(82);
      const interleaved = plain.flatMap((p, i) => [p.id, keyed[i]!.id]);
      expect(order.slice(0, 80)).toEqual(interleaved);
      await s.close();
    });

    it("counts the backlog's tasks and bytes through the tier (what --max-queued and --max-queued-bytes bound)", async () => {
      const s = await subject.make(defaults);
      const tasks = Array.from({ length: 50 }, (_, i) => make(s, "a", Priority.NORMAL, NO_OPTIONS, JSON.stringify("é".repeat(i))));
      for (const t of tasks) s.insert(t);
      const bytes = tasks.reduce((sum, t) => sum + Buffer.byteLength(t.argsJson), 0);
      expect(s.backlog()).toEqual({ tasks: 50, bytes });
      await s.commit();
      expect(s.backlog()).toEqual({ tasks: 50, bytes });
      const t0 = s.takeNext(["a"])!;
      s.finish(s.get(tasks[49]!.id, 2000)!, TaskState.CANCELLED, 2000, {});
      expect(s.backlog()).toEqual({ tasks: 48, bytes: bytes - t0.argsBytes - tasks[49]!.argsBytes });
      await s.commit();
      drain(s, ["a"]);
      expect(s.backlog()).toEqual({ tasks: 0, bytes: 0 });
      await s.close();
    });

    durableIt("restarts with a backlog past the bound: counts, lookups, order and what was running", async () => {
      const s = await subject.make(defaults);
      const tasks: TaskRecord[] = [];
      for (let i = 0; i < 120; i++) {
        const t = make(s, i % 2 === 0 ? "a" : "b", i % 5 === 0 ? Priority.HIGH : Priority.NORMAL, i === 7 ? { idempotencyKey: "seven" } : NO_OPTIONS, i === 11 ? JSON.stringify("x".repeat(3000)) : undefined);
        tasks.push(t);
        s.insert(t);
      }
      await s.commit();
      const running = [s.takeNext(["a", "b"])!, s.takeNext(["a", "b"])!];
      for (const t of running) s.startAttempt(t, "w1", "worker-1", 1500);
      const cancelled = s.get(tasks[100]!.id, 2000)!;
      s.finish(cancelled, TaskState.CANCELLED, 2000, {});
      const bytes = s.backlog().bytes;
      await s.commit();
      const { store: r, recovered } = await restart!(s, defaults);
      expect(recovered.tasks).toBe(120);
      expect(recovered.maxOrder).toBe(Math.max(...tasks.map((t) => t.order)));
      expect(recovered.running.map((t) => t.id).sort()).toEqual(running.map((t) => t.id).sort());
      expect(r.backlog()).toEqual({ tasks: 117, bytes });
      expect(r.countsOf("a")[TaskState.QUEUED] + r.countsOf("b")[TaskState.QUEUED]).toBe(117);
      expect(r.get(tasks[100]!.id, 3000)!.state).toBe(TaskState.CANCELLED);
      expect(r.get(tasks[111]!.id, 3000)).toMatchObject({ state: TaskState.QUEUED, argsJson: tasks[111]!.argsJson });
      expect(r.get(tasks[11]!.id, 3000)!.argsJson).toBe(tasks[11]!.argsJson);
      expect(r.getByKey("b", "seven", 3000)?.task?.id).toBe(tasks[7]!.id);
      expect((await r.list({}, { limit: 200 }, 3000)).tasks.map((t) => t.id)).toEqual(tasks.map((t) => t.id).reverse());
      const gone = new Set([...running, cancelled].map((t) => t.id));
      // New submissions after the restart queue behind the recovered ones.
      const later = Array.from({ length: 20 }, () => make(r, "a"));
      for (const t of later) r.insert(t);
      await r.commit();
      expect(drain(r, ["a", "b"])).toEqual(runOrder([...tasks.filter((t) => !gone.has(t.id)), ...later]));
      await r.commit();
      // Everything taken is written where a restart finds it (once each).
      const { store: again, recovered: last } = await restart!(r, defaults);
      expect(last.tasks).toBe(140);
      expect(again.backlog().tasks).toBe(0);
      expect(again.counts().running).toBe(139);
      await again.close();
    });

    it("pages through every order across the bound, both ways, as the queue will run", async () => {
      const s = await subject.make(defaults);
      const tasks: TaskRecord[] = [];
      for (let i = 0; i < 150; i++) {
        const t = make(s, i % 4 === 0 ? "b" : "a", i % 7 === 0 ? Priority.HIGH : Priority.NORMAL);
        tasks.push(t);
        s.insert(t);
        if (i % 40 === 39) await s.commit();
      }
      await s.commit();
      const taken = [s.takeNext(["a", "b"])!, s.takeNext(["b"])!];
      const waiting = tasks.filter((t) => !taken.includes(t));
      const pages = async (filter: TaskFilter, order: ListOrder): Promise<string[][]> => {
        const out: string[][] = [];
        for (let p = await s.list(filter, { order, limit: 9 }, 2000); ; p = await s.list(filter, { order, cursor: p.next, limit: 9 }, 2000)) {
          out.push(p.tasks.map((t) => t.id));
          if (p.next === undefined) break;
        }
        const back: string[][] = [];
        for (let p = await s.list(filter, { order, last: true, limit: 9 }, 2000); ; p = await s.list(filter, { order, cursor: p.previous, limit: 9 }, 2000)) {
          back.unshift(p.tasks.map((t) => t.id));
          if (p.previous === undefined) break;
        }
        expect(back).toEqual(out);
        return out;
      };
      const chunks = (ids: string[]): string[][] => Array.from({ length: Math.ceil(ids.length / 9) }, (_, i) => ids.slice(i * 9, i * 9 + 9));
      expect(await pages({}, "next")).toEqual(chunks(runOrder(waiting)));
      expect(await pages({ name: "b" }, "next")).toEqual(chunks(runOrder(waiting.filter((t) => t.name === "b"))));
      expect(await pages({ priority: Priority.HIGH }, "next")).toEqual(chunks(runOrder(waiting.filter((t) => t.priority === Priority.HIGH))));
      const text = /"n":\d*7\b/;
      expect(await pages({ text }, "next")).toEqual(chunks(runOrder(waiting.filter((t) => text.test(t.argsJson)))));
      expect(await pages({ states: [TaskState.QUEUED] }, "oldest")).toEqual(chunks(waiting.map((t) => t.id)));
      expect(await pages({ text }, "newest")).toEqual(chunks(tasks.filter((t) => text.test(t.argsJson)).map((t) => t.id).reverse()));
      await s.close();
    });

    if (subject.cold) {
      it("lets the event loop run while a listing or a bulk selection reads every cold task", async () => {
        const s = await subject.make(defaults);
        for (let i = 0; i < 6000; i++) s.insert(make(s, "a"));
        await s.commit();
        // Each reads every task (no task's args hold "n":-1): a timer set when it starts must fire before it ends.
        const readers: [string, () => Promise<unknown>][] = [
          ["a page with a text filter", () => s.list({ text: /"n":-1\b/ }, { limit: 10 }, 2000)],
          ["a page in run order with a text filter", () => s.list({ text: /"n":-1\b/ }, { order: "next", limit: 10 }, 2000)],
          ["a bulk selection", () => s.matching({ text: /"n":-1\b/, states: [TaskState.QUEUED] }, 2000)],
        ];
        for (const [what, read] of readers) {
          const events: string[] = [];
          setImmediate(() => events.push("timer"));
          await read().then(() => events.push("done"));
          expect(events, what).toEqual(["timer", "done"]);
        }
        // The negative control: a first page in run order reads a few records per lane, in one turn.
        const events: string[] = [];
        setImmediate(() => events.push("timer"));
        const page = await s.list({}, { order: "next", limit: 10 }, 2000).then((p) => (events.push("done"), p));
        expect(events).toEqual(["done"]);
        expect(page.total).toBe(6000);
        await new Promise((resolve) => setImmediate(resolve));
        await s.close();
      });

      it("lets go of the records of queued tasks past the bound once they are durable", async () => {
        const s = await subject.make(defaults);
        for (let i = 0; i < HOT; i++) s.insert(make(s, "a"));
        const cold = await isCollected(() => {
          const t = make(s, "a");
          s.insert(t);
          return t;
        });
        expect(cold).toBe(true);
        // The negative control: a task in memory is held.
        expect(await isCollected(() => {
          const t = make(s, "b");
          s.insert(t);
          return t;
        })).toBe(false);
        expect(drain(s, ["a"])).toHaveLength(HOT + 1);
        await s.close();
      });
    }
  });
}
