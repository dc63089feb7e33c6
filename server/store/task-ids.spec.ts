import { describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { TaskIds } from "./task-ids.js";
import { NO_OPTIONS, TaskRecord } from "./task-record.js";
import { TaskStore } from "./task-store.js";

describe("TaskIds", () => {
  it("spells an order as prefix + 7 base-36 digits and reads it back; other strings are not its ids", () => {
    const ids = new TaskIds();
    const id = ids.format(1);
    expect(id).toMatch(/^[0-9a-z]{10}0000001$/);
    expect(ids.orderOf(id)).toBe(1);
    expect(ids.orderOf(ids.format(36 ** 7 - 1))).toBe(36 ** 7 - 1);
    expect(ids.orderOf(ids.format(36 ** 7))).toBe(36 ** 7); // past 7 digits the width grows
    expect(ids.orderOf(ids.format(36 ** 10 - 1))).toBe(36 ** 10 - 1);
    expect(ids.orderOf(ids.format(36 ** 10))).toBeUndefined(); // 11 digits: past what reads exactly (2^53)
    const prefix = id.slice(0, 10);
    // Each character just outside 0-9 and a-z ("/", ":", "`", "{"), an upper-case digit, a sign, a width that is not canonical.
    for (const other of [`${prefix}000000/`, `${prefix}000000:`, `${prefix}000000\``, `${prefix}000000{`, `${prefix}000000A`, `${prefix}00000-1`, `${prefix}000001`, `${prefix}00000001`, `${prefix}0000001 `, "t1", ""]) {
      expect(ids.orderOf(other)).toBeUndefined();
    }
    expect(new TaskIds().orderOf(id)).toBeUndefined(); // another run's prefix (48 random bits)
  });

  it("spells every order as its 7 base-36 digits, whichever orders were spelled before it", () => {
    const ids = new TaskIds();
    const prefix = ids.format(0).slice(0, 10);
    const plain = (order: number): string => prefix + order.toString(36).padStart(7, "0");
    // Runs of neighbours from three places at once (as submissions, dispatches and outcomes
    // interleave), heads that share a slot of the cache (orders 1,296 × 8 apart), and the edges.
    const orders: number[] = [];
    for (let i = 0; i < 3000; i++) orders.push(i, 1_000_000 + i, 36 ** 7 - 3000 + i, i * 1296 * 8 + (i % 1296));
    orders.push(1295, 1296, 36 ** 7 - 1, 36 ** 7, 36 ** 7 + 1, 2 ** 40);
    for (const order of orders) expect(ids.format(order)).toBe(plain(order));
  });

  it("ids sort by creation as strings", () => {
    const ids = new TaskIds();
    const spelled = [1, 9, 10, 35, 36, 1295, 1296, 99_999].map((n) => ids.format(n));
    expect([...spelled].sort()).toEqual(spelled);
  });
});

describe("TaskStore with ids of its own", () => {
  const make = (store: TaskStore, order: number, name = "a"): TaskRecord =>
    new TaskRecord(store.ids, name, Priority.NORMAL, `{"i":${order}}`, 1000, order, NO_OPTIONS);

  it("finds tasks by id through evictions and compactions, and never a dropped one", () => {
    const store = new TaskStore({ resultTtlMs: 60_000, maxResults: 10 });
    const tasks: TaskRecord[] = [];
    for (let order = 1; order <= 5000; order++) {
      // Every 7th stays queued (a name nobody takes here) while the others finish and are dropped.
      const task = make(store, order, order % 7 === 0 ? "kept" : "a");
      store.insert(task);
      tasks.push(task);
      expect(store.get(task.id, 1000)).toBe(task);
    }
    for (let task = store.takeNext(["a"]); task !== undefined; task = store.takeNext(["a"])) {
      const attempt = store.startAttempt(task, "w", "worker", 1000);
      store.endAttempt(attempt, AttemptOutcome.SUCCEEDED, 1001);
      store.finish(task, TaskState.SUCCEEDED, 1001, { resultJson: "1" });
      store.sweep(1002); // beyond 10 results the oldest go, and history compacts as they pile up
    }
    const finished = tasks.filter((t) => t.name === "a");
    for (const task of tasks) {
      const found = store.get(task.id, 1002);
      if (task.name === "kept") expect(found).toBe(task);
      else if (finished.indexOf(task) >= finished.length - 10) expect(found).toBe(task);
      else expect(found).toBeUndefined();
    }
    expect(store.get(store.ids.format(5001), 1002)).toBeUndefined(); // not made yet
    expect(store.get(store.ids.format(0), 1002)).toBeUndefined();
  });

  it("keeps tasks with ids of their own (from the log, another run) beside its own", async () => {
    const store = new TaskStore({ resultTtlMs: 60_000, maxResults: 10 });
    const foreign = new TaskRecord(new TaskIds().format(2), "a", Priority.NORMAL, "null", 1000, 1, NO_OPTIONS);
    const own = make(store, 2);
    store.insert(foreign);
    store.insert(own);
    expect(store.get(foreign.id, 1000)).toBe(foreign);
    expect(store.get(own.id, 1000)).toBe(own);
    expect(own.id.slice(10)).toBe(foreign.id.slice(10)); // same order, different runs
    expect((await store.list({}, { limit: 10 }, 1000)).tasks).toEqual([own, foreign]);
  });
});
