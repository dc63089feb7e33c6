import { describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { Recovered, TaskStore } from "./task-store.js";
import { NO_OPTIONS, TaskRecord, type SubmitOptions } from "./task-record.js";
import { isCollected } from "../../test/helpers/collected.js";

/** Options every store is made with in the suite. */
export interface SuiteStoreOptions {
  resultTtlMs: number;
  maxResults: number;
  keyTtlMs?: number;
  /** Queued tasks kept in memory before new ones go to the cold tier (a log that reads synchronously). */
  hotQueued?: number;
}

/** How the suite gets stores of one kind. */
export interface SuiteSubject {
  /** A new, empty store. */
  make(options: SuiteStoreOptions): Promise<TaskStore>;
  /**
   * For durable stores: closes `store` (waiting for its writes) and opens a
   * new one on the same state, as a restart would. Undefined for a store
   * that lives in memory only: the restart tests then do not apply.
   */
  reopen?(store: TaskStore, options: SuiteStoreOptions): Promise<{ store: TaskStore; recovered: Recovered }>;
}

/**
 * The behaviour every TaskStore must have, whatever keeps its state: in
 * memory, on local disk, in PostgreSQL. Run it once per kind:
 * `storeSuite("lmdb", { make, reopen })`.
 */
export function storeSuite(name: string, subject: SuiteSubject): void {
  let order = 0;
  const make = (taskName: string, priority = Priority.NORMAL, options: SubmitOptions = NO_OPTIONS, now = 1000, args = "null"): TaskRecord =>
    new TaskRecord(`id-${++order}`, taskName, priority, args, now, order, options);
  const defaults: SuiteStoreOptions = { resultTtlMs: 60_000, maxResults: 100 };
  const store = (overrides: Partial<SuiteStoreOptions> = {}): Promise<TaskStore> => subject.make({ ...defaults, ...overrides });
  const drain = (s: TaskStore, names: string[]): string[] => {
    const ids: string[] = [];
    for (let t = s.takeNext(names); t !== undefined; t = s.takeNext(names)) ids.push(t.id);
    return ids;
  };
  /** Inserts and waits until the inserts are durable (so they can be dispatched). */
  const insert = async (s: TaskStore, ...tasks: TaskRecord[]): Promise<void> => {
    for (const t of tasks) s.insert(t);
    await s.commit();
  };
  const succeed = (s: TaskStore, t: TaskRecord, finishedAt: number, resultJson = "42"): void => {
    const attempt = s.startAttempt(t, "w1", "worker-1", finishedAt - 1);
    s.endAttempt(attempt, AttemptOutcome.SUCCEEDED, finishedAt);
    s.finish(t, TaskState.SUCCEEDED, finishedAt, { resultJson });
  };
  const restart = subject.reopen;
  // A store that lives in memory only has no restart: those tests are not registered for it (not skipped).
  const durableIt = (title: string, fn: () => Promise<void>): void => {
    if (restart !== undefined) it(title, fn);
  };

  describe(`${name} (TaskStore suite)`, () => {
    it("takes tasks by strict priority, FIFO within a priority", async () => {
      const s = await store();
      const tasks = [make("a", Priority.LOW), make("a", Priority.NORMAL), make("a", Priority.CRITICAL), make("a", Priority.NORMAL), make("a", Priority.HIGH)];
      await insert(s, ...tasks);
      expect(drain(s, ["a"])).toEqual([tasks[2]!.id, tasks[4]!.id, tasks[1]!.id, tasks[3]!.id, tasks[0]!.id]);
      expect(tasks.every((t) => t.state === TaskState.RUNNING)).toBe(true);
    });

    it("takes only tasks whose name the worker serves, oldest first across names", async () => {
      const s = await store();
      const [a1, b1, c1, a2] = [make("a"), make("b"), make("c"), make("a")];
      await insert(s, a1!, b1!, c1!, a2!);
      expect(drain(s, ["b", "a"])).toEqual([a1!.id, b1!.id, a2!.id]);
      expect(s.counts().queued[Priority.NORMAL]).toBe(1);
      expect(drain(s, ["c"])).toEqual([c1!.id]);
      expect(drain(s, ["zzz"])).toEqual([]);
    });

    it("puts a re-queued task back at its old place", async () => {
      const s = await store();
      const [t1, t2, t3] = [make("a"), make("a"), make("a")];
      await insert(s, t1!, t2!, t3!);
      expect(s.takeNext(["a"])).toBe(t1);
      expect(s.takeNext(["a"])).toBe(t2);
      s.requeue(t2!);
      s.requeue(t1!);
      expect(drain(s, ["a"])).toEqual([t1!.id, t2!.id, t3!.id]);
    });

    it("skips a cancelled queued task and can queue it again later (at the back)", async () => {
      const s = await store();
      const [t1, t2] = [make("a"), make("a")];
      await insert(s, t1!, t2!);
      s.finish(t1!, TaskState.CANCELLED, 1000, { error: { message: "no", stack: "", type: "CancelledError", retryable: false } });
      expect(s.counts().queued[Priority.NORMAL]).toBe(1);
      expect(s.counts().cancelled).toBe(1);
      s.restartSeries(t1!);
      await s.commit();
      expect(drain(s, ["a"])).toEqual([t2!.id, t1!.id]);
      expect(s.counts().cancelled).toBe(0);
    });

    it("keeps counts per state consistent", async () => {
      const s = await store();
      const tasks = Array.from({ length: 5 }, () => make("a"));
      await insert(s, ...tasks);
      s.takeNext(["a"]);
      s.takeNext(["a"]);
      succeed(s, tasks[0]!, 1000);
      s.finish(tasks[2]!, TaskState.CANCELLED, 1000, {});
      s.schedule(tasks[3]!, 5000);
      expect(s.counts()).toEqual({ queued: [0, 0, 0, 1, 0], scheduled: 1, running: 1, succeeded: 1, failed: 0, cancelled: 1 });
    });

    it("counts tasks per state for each name, through every move, and drops a name with its last task", async () => {
      const s = await store({ resultTtlMs: 1000, maxResults: 100 });
      const [a1, a2, a3, b1] = [make("a"), make("a"), make("a"), make("b")];
      await insert(s, a1!, a2!, a3!, b1!);
      s.takeNext(["a"]);
      succeed(s, a1!, 2000);
      s.schedule(a2!, 9000);
      s.finish(a3!, TaskState.CANCELLED, 2000, {});
      const tally = (n: string): number[] => Array.from(s.countsOf(n));
      expect(tally("a")).toEqual([0, 0, 1, 0, 1, 0, 1]);
      expect(tally("b")).toEqual([0, 1, 0, 0, 0, 0, 0]);
      expect(new Map(s.nameCounts()).size).toBe(2);
      s.finish(b1!, TaskState.CANCELLED, 2000, {});
      s.sweep(10_000); // b's only task expires: b is gone
      expect(tally("b")).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect([...s.nameCounts()].map(([n]) => n)).toEqual(["a"]);
    });

    it("holds a paused name's tasks back (flow-limit parking aside) and gives them in order once resumed", async () => {
      const s = await store();
      const [a1, b1, a2] = [make("a", Priority.HIGH), make("b"), make("a", Priority.CRITICAL)];
      s.pauseName("a");
      await insert(s, a1!, b1!, a2!);
      expect(drain(s, ["a", "b"])).toEqual([b1!.id]);
      expect(s.counts().queued[Priority.CRITICAL]).toBe(1); // still queued and counted
      s.parkLane("a", "");
      s.resumeName("a");
      expect(drain(s, ["a"])).toEqual([]); // the flow limit still parks it
      s.unparkLane("a", "");
      s.pauseName("a");
      expect(drain(s, ["a"])).toEqual([]);
      s.resumeName("a");
      expect(drain(s, ["a"])).toEqual([a2!.id, a1!.id]);
    });

    it("keeps a task's log lines within its bounds: 64 KiB of text, then one marker line and a count", async () => {
      const s = await store();
      const t = make("a");
      await insert(s, t);
      const line = (i: number) => ({ at: 1000 + i, attempt: 1, text: "y".repeat(2000) + i });
      s.appendLogs(t, Array.from({ length: 40 }, (_, i) => line(i)), 0);
      expect(t.logs).toHaveLength(33); // 32 lines of ~2 KB fit in 64 KiB, then the marker
      expect(t.logs![32]!.text).toMatch(/^…\[log cut/);
      expect(t.logsDropped).toBe(8);
      s.appendLogs(t, [line(99)], 3); // later lines (and those the worker dropped) are only counted
      expect(t.logs).toHaveLength(33);
      expect(t.logsDropped).toBe(12);
    });

    it("forgets results after their TTL, and the oldest beyond maxResults", async () => {
      const s = await store({ resultTtlMs: 1000, maxResults: 2 });
      const done = Array.from({ length: 3 }, () => make("a"));
      await insert(s, ...done);
      done.forEach((t, i) => {
        s.takeNext(["a"]);
        succeed(s, t, 10_000 + i);
      });
      expect(s.sweep(10_100)).toBe(1);
      expect(s.get(done[0]!.id, 10_100)).toBeUndefined();
      expect(s.get(done[1]!.id, 10_100)).toBe(done[1]);
      expect(s.get(done[1]!.id, 11_001)).toBeUndefined(); // TTL passed, even before a sweep
      expect(s.sweep(11_100)).toBe(1);
      expect(s.counts().succeeded).toBe(0);
    });

    it("finds tasks by idempotency key while they are retained", async () => {
      const s = await store({ resultTtlMs: 1000 });
      const t = make("a", Priority.NORMAL, { idempotencyKey: "k1" });
      await insert(s, t);
      expect(s.getByKey("a", "k1", 1000)?.task).toBe(t);
      expect(s.getByKey("b", "k1", 1000)).toBeUndefined(); // keys are scoped per task name
      s.takeNext(["a"]);
      succeed(s, t, 2000);
      expect(s.getByKey("a", "k1", 2500)?.task).toBe(t);
      expect(s.getByKey("a", "k1", 3000)).toBeUndefined();
    });

    it("remembers a key past its task's eviction for the key TTL, compactly", async () => {
      const s = await store({ resultTtlMs: 1000, maxResults: 1, keyTtlMs: 5000 });
      const [a, b] = [make("a", Priority.NORMAL, { idempotencyKey: "k" }, 1000, '{"x":1,"y":2}'), make("a")];
      await insert(s, a!, b!);
      s.takeNext(["a"]);
      succeed(s, a!, 2000);
      s.takeNext(["a"]);
      succeed(s, b!, 2100);
      expect(s.sweep(2200)).toBe(1); // beyond --max-results: a's record goes
      expect(s.get(a!.id, 2200)).toBeUndefined();
      const match = s.getByKey("a", "k", 2200);
      expect(match?.task).toBeUndefined();
      expect(match?.remembered).toMatchObject({ id: a!.id, state: TaskState.SUCCEEDED, expiresAt: 7000 });
      expect(s.rememberedKeys).toBe(1);
      s.sweep(7000);
      expect(s.getByKey("a", "k", 7000)).toBeUndefined();
      expect(s.rememberedKeys).toBe(0);
    });

    it("skips parked lanes without losing their place, and splits a name into keyed lanes", async () => {
      const s = await store();
      const args = (customer: string): string => JSON.stringify({ customer });
      const tasks = [make("lim", Priority.HIGH, NO_OPTIONS, 1000, args("c1")), make("lim", Priority.HIGH, NO_OPTIONS, 1000, args("c1")), make("lim", Priority.HIGH, NO_OPTIONS, 1000, args("c2")), make("free", Priority.LOW)];
      await insert(s, ...tasks);
      s.parkLane("lim", "");
      expect(s.takeNext(["lim", "free"])).toBe(tasks[3]); // the parked HIGH tasks do not block the LOW one
      expect(s.takeNext(["lim", "free"])).toBeUndefined();
      expect(s.counts().queued[Priority.HIGH]).toBe(3);
      expect(s.parkedCounts("lim")).toEqual(new Map([["", 3]]));
      s.unparkLane("lim", "");
      s.setLaneKey("lim", (t) => (JSON.parse(t.argsJson) as { customer: string }).customer);
      s.parkLane("lim", "c1");
      expect(s.takeNext(["lim"])).toBe(tasks[2]); // c1 is parked; c2 goes
      expect(s.takeNext(["lim"])).toBeUndefined();
      s.unparkLane("lim", "c1");
      expect(drain(s, ["lim"])).toEqual([tasks[0]!.id, tasks[1]!.id]); // FIFO kept within the lane
      expect(s.counts().queued).toEqual([0, 0, 0, 0, 0]);
    });

    it("lists newest first with filters, pages and totals", async () => {
      const s = await store();
      const tasks = Array.from({ length: 7 }, (_, i) => make(i % 2 === 0 ? "even" : "odd", i === 6 ? Priority.HIGH : Priority.NORMAL));
      await insert(s, ...tasks);
      const page1 = await s.list({}, { limit: 3 }, 1000);
      expect(page1.tasks.map((t) => t.id)).toEqual([tasks[6]!.id, tasks[5]!.id, tasks[4]!.id]);
      expect(page1.total).toBe(7);
      const page2 = await s.list({}, { cursor: page1.next, limit: 3 }, 1000);
      expect(page2.tasks.map((t) => t.id)).toEqual([tasks[3]!.id, tasks[2]!.id, tasks[1]!.id]);
      const page3 = await s.list({}, { cursor: page2.next, limit: 3 }, 1000);
      expect(page3.tasks.map((t) => t.id)).toEqual([tasks[0]!.id]);
      expect(page3.next).toBeUndefined();
      expect((await s.list({ name: "odd" }, { limit: 10 }, 1000)).total).toBe(3);
      expect((await s.list({ priority: Priority.HIGH }, { limit: 10 }, 1000)).tasks).toEqual([tasks[6]]);
      expect((await s.list({ idPrefix: tasks[3]!.id }, { limit: 10 }, 1000)).tasks).toEqual([tasks[3]]);
      s.takeNext(["even"]);
      expect((await s.list({ states: [TaskState.RUNNING] }, { limit: 10 }, 1000))).toMatchObject({ tasks: [tasks[6]], total: 1 });
    });

    it("pages both ways in each order, and jumps to the last page", async () => {
      const s = await store();
      const tasks = Array.from({ length: 7 }, () => make("a"));
      await insert(s, ...tasks);
      const ids = (page: { tasks: TaskRecord[] }): number[] => page.tasks.map((t) => tasks.indexOf(t));
      const p1 = await s.list({}, { limit: 3 }, 1000);
      expect(ids(p1)).toEqual([6, 5, 4]);
      expect(p1.previous).toBeUndefined();
      const p2 = await s.list({}, { cursor: p1.next, limit: 3 }, 1000);
      expect(ids(p2)).toEqual([3, 2, 1]);
      // Back from page 2: page 1 again, in the same order, and nothing before it.
      const back = await s.list({}, { cursor: p2.previous, limit: 3 }, 1000);
      expect(ids(back)).toEqual([6, 5, 4]);
      expect(back.previous).toBeUndefined();
      expect(ids((await s.list({}, { cursor: back.next, limit: 3 }, 1000)))).toEqual([3, 2, 1]);
      // The last page holds what the last of the pages of 3 from the start holds: one task.
      const last = await s.list({}, { last: true, limit: 3 }, 1000);
      expect(ids(last)).toEqual([0]);
      expect(last.next).toBeUndefined();
      expect(ids((await s.list({}, { cursor: last.previous, limit: 3 }, 1000)))).toEqual([3, 2, 1]);
      // Oldest first, and its last page.
      const o1 = await s.list({}, { order: "oldest", limit: 3 }, 1000);
      expect(ids(o1)).toEqual([0, 1, 2]);
      expect(ids((await s.list({}, { order: "oldest", cursor: o1.next, limit: 3 }, 1000)))).toEqual([3, 4, 5]);
      expect(ids((await s.list({}, { order: "oldest", last: true, limit: 3 }, 1000)))).toEqual([6]);
      expect(ids((await s.list({}, { order: "oldest", last: true, limit: 7 }, 1000)))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it("lists waiting tasks in the order they will run: by priority, then queue position, then scheduled by due time", async () => {
      const s = await store();
      const [low, normal1, critical, normal2, later, sooner, normal3] = [
        make("a", Priority.LOW), make("b", Priority.NORMAL), make("a", Priority.CRITICAL), make("a", Priority.NORMAL), make("a"), make("b"), make("a"),
      ];
      await insert(s, low!, normal1!, critical!, normal2!, normal3!);
      s.insert(later!, 90_000);
      s.insert(sooner!, 50_000);
      expect(s.takeNext(["a"])).toBe(critical); // running: not waiting any more
      s.requeue(critical!); // put back at its place: first again
      expect(s.takeNext(["zzz"])).toBeUndefined();
      const order = [critical, normal1, normal2, normal3, low, sooner, later].map((t) => t!.id);
      const page1 = await s.list({}, { order: "next", limit: 4 }, 1000);
      expect(page1.tasks.map((t) => t.id)).toEqual(order.slice(0, 4));
      expect(page1.total).toBe(7);
      const page2 = await s.list({}, { order: "next", cursor: page1.next, limit: 4 }, 1000);
      expect(page2.tasks.map((t) => t.id)).toEqual(order.slice(4));
      expect(page2.next).toBeUndefined();
      expect((await s.list({}, { order: "next", cursor: page2.previous, limit: 4 }, 1000)).tasks.map((t) => t.id)).toEqual(order.slice(0, 4));
      expect((await s.list({}, { order: "next", last: true, limit: 4 }, 1000)).tasks.map((t) => t.id)).toEqual(order.slice(4));
      expect((await s.list({ states: [TaskState.SCHEDULED] }, { order: "next", limit: 9 }, 1000)).tasks.map((t) => t.id)).toEqual(order.slice(5));
      expect((await s.list({ name: "b" }, { order: "next", limit: 9 }, 1000)).tasks).toEqual([normal1, sooner]);
    });

    it("filters by name substring, text in args and errors, worker and creation time", async () => {
      const s = await store();
      const [resize, email, other] = [make("image-resize", Priority.NORMAL, NO_OPTIONS, 1000, '{"file":"Cat.png"}'), make("send-email", Priority.NORMAL, NO_OPTIONS, 2000, '{"to":"ada@example.com"}'), make("misc", Priority.NORMAL, NO_OPTIONS, 3000)];
      await insert(s, resize!, email!, other!);
      s.takeNext(["send-email"]);
      const attempt = s.startAttempt(email!, "w-7", "mailer-1", 2100);
      const smtp = { message: "SMTP 550: mailbox unavailable", stack: "", type: "Error", retryable: false };
      s.endAttempt(attempt, AttemptOutcome.FAILED, 2200, smtp);
      s.finish(email!, TaskState.FAILED, 2200, { error: smtp });
      const list = async (filter: Parameters<TaskStore["list"]>[0]): Promise<string[]> => (await s.list(filter, { limit: 10 }, 5000)).tasks.map((t) => t.name);
      expect(await list({ nameContains: /RESIZE/i })).toEqual(["image-resize"]);
      expect(await list({ text: /cat\.PNG/i })).toEqual(["image-resize"]);
      expect(await list({ text: /mailbox/i })).toEqual(["send-email"]);
      expect(await list({ worker: "w-7" })).toEqual(["send-email"]);
      expect(await list({ worker: "mailer-1" })).toEqual(["send-email"]);
      expect(await list({ createdAfter: 2000 })).toEqual(["misc", "send-email"]);
      expect(await list({ createdAfter: 1500, createdBefore: 3000 })).toEqual(["send-email"]);
      expect((await s.list({ text: /nothing/i }, { limit: 10 }, 5000)).total).toBe(0);
      expect((await s.matching({ createdBefore: 2500 }, 5000)).tasks).toEqual([resize, email]);
    });

    it("runs afterCommit callbacks only once the changes before them are durable, in order", async () => {
      const s = await store();
      const seen: string[] = [];
      s.insert(make("a"));
      s.afterCommit(() => seen.push("first"));
      s.insert(make("a"));
      s.afterCommit(() => seen.push("second"));
      await s.commit();
      expect(seen).toEqual(["first", "second"]);
    });

    it("counts the backlog (queued and scheduled tasks, and the UTF-8 bytes of their args) through every transition", async () => {
      const s = await store();
      const [q, sch, big] = [make("a", Priority.NORMAL, NO_OPTIONS, 1000, '"é"'), make("a"), make("a", Priority.HIGH, NO_OPTIONS, 1000, JSON.stringify("x".repeat(5000)))];
      s.insert(q!);
      s.insert(sch!, 5000);
      s.insert(big!);
      await s.commit();
      const bytes = 4 + 4 + 5002;
      expect(s.backlog()).toEqual({ tasks: 3, bytes });
      expect(s.takeNext(["a"])).toBe(big); // running: no longer waiting
      expect(s.backlog()).toEqual({ tasks: 2, bytes: bytes - 5002 });
      s.requeue(big!);
      expect(s.backlog()).toEqual({ tasks: 3, bytes });
      s.finish(sch!, TaskState.CANCELLED, 2000, {}); // a cancelled delayed task leaves the backlog at once
      s.finish(q!, TaskState.CANCELLED, 2000, {});
      expect(s.backlog()).toEqual({ tasks: 1, bytes: 5002 });
      s.restartSeries(q!);
      expect(s.backlog()).toEqual({ tasks: 2, bytes: 5006 });
      const running = s.takeNext(["a"])!;
      s.schedule(running, 9000); // a retry waiting out its backoff is backlog again
      expect(s.backlog()).toEqual({ tasks: 2, bytes: 5006 });
      s.enqueue(running);
      expect(s.backlog()).toEqual({ tasks: 2, bytes: 5006 });
      await s.commit();
      if (restart !== undefined) {
        const { store: r } = await restart(s, defaults);
        expect(r.backlog()).toEqual({ tasks: 2, bytes: 5006 });
        await r.close();
      }
    });

    it("lets go of a cancelled task at once: no queue or due-time order keeps it (only the result it became, until dropped)", async () => {
      const s = await store({ resultTtlMs: 1000 });
      const ahead = make("a");
      await insert(s, ahead); // stays queued ahead of the others: its queue is kept
      for (const kind of ["queued", "put back", "scheduled"] as const) {
        const collected = await isCollected(() => {
          const task = make("a", Priority.NORMAL, NO_OPTIONS, 0, JSON.stringify("x".repeat(1000)));
          s.insert(task, kind === "scheduled" ? 10 ** 12 : 0);
          if (kind === "put back") {
            s.takeNext(["a"]); // `ahead`, then this one
            expect(s.takeNext(["a"])).toBe(task);
            s.requeue(ahead);
            s.requeue(task);
          }
          s.finish(task, TaskState.CANCELLED, 0, {});
          // Its result expires; listings let go of it once evicted records are most of them.
          for (let i = 0; i < 2100; i++) {
            const filler = make("z", Priority.NORMAL, NO_OPTIONS, 0);
            s.insert(filler);
            s.finish(filler, TaskState.CANCELLED, 0, {});
          }
          s.sweep(10_000);
          return task;
        });
        expect(collected, kind).toBe(true);
      }
      expect(s.takeNext(["a"])).toBe(ahead);
      expect(s.takeNext(["a"])).toBeUndefined();
      expect(s.nextDueAt()).toBe(Number.POSITIVE_INFINITY);
      // The negative control: a waiting task is held (the check can tell).
      expect(await isCollected(() => {
        const waiting = make("a");
        s.insert(waiting, 10 ** 12);
        return waiting;
      })).toBe(false);
      await s.commit();
      await s.close();
    });

    durableIt("recovers every task in its state after a restart: queue order, attempts, results, errors, options", async () => {
      const options = { resultTtlMs: 3_600_000, maxResults: 100 };
      const s = await subject.make(options);
      const keyed = make("k", Priority.HIGH, { idempotencyKey: "k", retry: { maxAttempts: 3 }, timeoutMs: 500, metadata: { traceparent: "00-x" } }, 1000, '{"big":"é😀"}');
      const [q1, q2, q3, running, done, failed, later] = [make("a"), make("a"), make("a"), make("a"), make("a"), make("b"), make("a")];
      await insert(s, keyed, q1!, q2!, q3!, running!, done!, failed!);
      // keyed: one attempt, lost; back in its queue at its place.
      expect(s.takeNext(["k"])).toBe(keyed);
      s.startAttempt(keyed, "w1", "worker-1", 1500);
      s.endAttempt(keyed.attemptNumbered(1)!, AttemptOutcome.LOST, 1600, { message: "gone", stack: "", type: "WorkerLost", retryable: true });
      s.countLoss(keyed);
      s.requeue(keyed);
      // q1..q3 taken and put back out of order; they keep their places. running stays running.
      expect(drain(s, ["a"])).toEqual([q1!.id, q2!.id, q3!.id, running!.id, done!.id]);
      s.requeue(done!); // drain took it too: back at its place
      s.requeue(q3!);
      s.requeue(q1!);
      s.requeue(q2!);
      s.startAttempt(running!, "w2", "worker-2", 1700);
      s.acknowledge(running!.attemptNumbered(1)!, 1701);
      s.setProgress(running!, { fraction: 0.5, message: "half", updatedAt: 1702 });
      // failed: one attempt that failed for good.
      expect(s.takeNext(["b"])).toBe(failed);
      s.startAttempt(failed!, "w1", "worker-1", 1800);
      const boom = { message: "boom", stack: "Error: boom\n  at x", type: "Error", retryable: false };
      s.endAttempt(failed!.attemptNumbered(1)!, AttemptOutcome.FAILED, 1900, boom);
      s.countFailure(failed!);
      s.finish(failed!, TaskState.FAILED, 1900, { error: boom });
      s.insert(later!, 99_000);
      await s.commit();

      const { store: r, recovered } = await restart!(s, options);
      expect(recovered.tasks).toBe(8);
      expect(recovered.maxOrder).toBe(later!.order);
      expect(recovered.running.map((t) => t.id)).toEqual([running!.id]);
      expect(recovered.scheduled.map((t) => [t.id, t.scheduledFor])).toEqual([[later!.id, 99_000]]);
      const k = r.get(keyed.id, 2000)!;
      expect(k).toMatchObject({ name: "k", priority: Priority.HIGH, argsJson: '{"big":"é😀"}', state: TaskState.QUEUED, losses: 1, attempt: 1 });
      expect(k.options).toEqual(keyed.options);
      expect(r.getByKey("k", "k", 2000)?.task).toBe(k);
      expect(k.attemptNumbered(1)).toMatchObject({ workerId: "w1", outcome: AttemptOutcome.LOST, error: { message: "gone" } });
      const run = r.get(running!.id, 2000)!;
      expect(run.currentAttempt).toMatchObject({ number: 1, workerId: "w2", ackedAt: 1701 });
      expect(run.progress).toEqual({ fraction: 0.5, message: "half", updatedAt: 1702 });
      expect(r.get(failed!.id, 2000)).toMatchObject({ state: TaskState.FAILED, failures: 1, error: { message: "boom", stack: "Error: boom\n  at x" } });
      expect(r.counts()).toEqual({ queued: [0, 0, 1, 4, 0], scheduled: 1, running: 1, succeeded: 0, failed: 1, cancelled: 0 });
      // Queue order survives: keyed (HIGH) first, then the put-back tasks at their places, then done.
      expect(drain(r, ["a", "b", "k"])).toEqual([keyed.id, q1!.id, q2!.id, q3!.id, done!.id]);
      expect((await r.list({}, { limit: 100 }, 2000)).tasks.map((t) => t.id)).toEqual([later, failed, done, running, q3, q2, q1, keyed].map((t) => t!.id));
      await r.close();
    });

    durableIt("keeps results and their TTLs across a restart, and forgets what was swept", async () => {
      const options = { resultTtlMs: 1000, maxResults: 100 };
      const s = await subject.make(options);
      const [old, fresh] = [make("a"), make("a")];
      await insert(s, old!, fresh!);
      s.takeNext(["a"]);
      succeed(s, old!, 10_000, '{"v":1}');
      s.takeNext(["a"]);
      succeed(s, fresh!, 10_500, '{"v":2}');
      expect(s.sweep(11_100)).toBe(1); // old expired
      await s.commit();
      const { store: r } = await restart!(s, options);
      expect(r.get(old!.id, 11_100)).toBeUndefined();
      expect(r.get(fresh!.id, 11_100)).toMatchObject({ state: TaskState.SUCCEEDED, resultJson: '{"v":2}', finishedAt: 10_500 });
      expect(r.get(fresh!.id, 11_500)).toBeUndefined(); // its TTL still counts from when it finished (and the lookup evicts it)
      expect(r.counts().succeeded).toBe(0);
      const again = await restart!(r, options);
      expect(again.recovered.tasks).toBe(0);
      await again.store.close();
    });

    durableIt("keeps remembered keys across a restart until they expire", async () => {
      const options = { resultTtlMs: 1000, maxResults: 100, keyTtlMs: 10_000 };
      const s = await subject.make(options);
      const t = make("a", Priority.NORMAL, { idempotencyKey: "k" }, 1000, '{"n":1}');
      await insert(s, t);
      s.takeNext(["a"]);
      succeed(s, t, 2000);
      expect(s.sweep(3500)).toBe(1); // the result expired; the key did not
      await s.commit();
      const { store: r } = await restart!(s, options);
      expect(r.getByKey("a", "k", 4000)?.remembered).toMatchObject({ id: t.id, expiresAt: 12_000 });
      expect(r.getByKey("b", "k", 4000)).toBeUndefined();
      r.sweep(12_000);
      await r.commit();
      const again = await restart!(r, options);
      expect(again.store.getByKey("a", "k", 5000)).toBeUndefined(); // swept, and the deletion was stored
      await again.store.close();
    });

    durableIt("keeps a task's series and each attempt's series across a restart (a retry by hand starts a new one)", async () => {
      const s = await store();
      const t = make("a");
      await insert(s, t);
      s.takeNext(["a"]);
      const first = s.startAttempt(t, "w1", "worker-1", 1100);
      const boom = { message: "boom", stack: "", type: "Error", retryable: false };
      s.endAttempt(first, AttemptOutcome.FAILED, 1200, boom);
      s.countFailure(t);
      s.finish(t, TaskState.FAILED, 1200, { error: boom });
      s.restartSeries(t);
      expect(t).toMatchObject({ series: 2, seriesStart: 1, state: TaskState.QUEUED });
      s.takeNext(["a"]);
      expect(s.startAttempt(t, "w1", "worker-1", 1300).series).toBe(2);
      await s.commit();
      const { store: r } = await restart!(s, defaults);
      const back = r.get(t.id, 2000)!;
      expect(back).toMatchObject({ series: 2, seriesStart: 1 });
      expect(back.attempts!.map((a) => [a.number, a.series])).toEqual([[1, 1], [2, 2]]);
      await r.close();
    });

    durableIt("keeps task logs and their count of dropped lines across a restart", async () => {
      const s = await store();
      const t = make("a");
      await insert(s, t);
      s.appendLogs(t, [{ at: 1001, attempt: 1, text: "hello é" }], 2);
      await s.commit();
      const { store: again } = await restart!(s, defaults);
      const back = again.get(t.id, 2000)!;
      expect(back.logs).toEqual([{ at: 1001, attempt: 1, text: "hello é" }, { at: 1001, attempt: 1, text: t.logs![1]!.text }]);
      expect(back.logsDropped).toBe(2);
      expect(back.logBytes).toBe(8);
    });

    durableIt("keeps side records (worker sessions, definitions, metadata) until deleted", async () => {
      const s = await store();
      s.saveRecord("workers", "w1", { name: "worker-1", names: ["a"] });
      s.saveRecord("workers", "w2", { name: "worker-2", names: ["b"] });
      s.saveRecord("definitions", "a", [3, null, 0]);
      s.saveRecord("workers", "w2", undefined);
      await s.commit();
      const { store: r, recovered } = await restart!(s, defaults);
      expect([...recovered.records.get("workers")!]).toEqual([["w1", { name: "worker-1", names: ["a"] }]]);
      expect([...recovered.records.get("definitions")!]).toEqual([["a", [3, null, 0]]]);
      await r.close();
    });
  });
}
