import { afterEach, describe, expect, it, vi } from "vitest";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { Scheduler } from "./scheduler.js";
import { NO_OPTIONS, TaskRecord } from "../store/task-record.js";
import { TaskStore } from "../store/task-store.js";

afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const store = new TaskStore({ resultTtlMs: 60_000, maxResults: 100 });
  const due: string[] = [];
  const scheduler = new Scheduler(store, (task) => {
    due.push(task.id);
    store.enqueue(task);
  });
  const scheduled = (id: string, at: number): TaskRecord => {
    const task = new TaskRecord(id, "t", 3, "null", 0, 1, NO_OPTIONS);
    store.insert(task, at);
    scheduler.add(task, 0);
    return task;
  };
  return { store, due, scheduler, scheduled };
}

describe("Scheduler", () => {
  it("hands tasks back in due order, never early, skipping ones that left SCHEDULED", () => {
    const { store, due, scheduler, scheduled } = setup();
    const [, , c] = [scheduled("a", 300), scheduled("b", 100), scheduled("c", 200)];
    store.finish(c!, TaskState.CANCELLED, 0, {});
    expect(scheduler.runOnce(99)).toBe(0);
    expect(scheduler.runOnce(250)).toBe(1);
    expect(scheduler.runOnce(1000)).toBe(1);
    expect(due).toEqual(["b", "a"]);
  });

  it("fires on its own timer at the due time (fake clock)", () => {
    vi.useFakeTimers({ now: 0 });
    const { due, scheduler, scheduled } = setup();
    scheduler.start();
    scheduled("late", 5000);
    scheduled("soon", 1000);
    vi.advanceTimersByTime(999);
    expect(due).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(due).toEqual(["soon"]);
    vi.advanceTimersByTime(4000);
    expect(due).toEqual(["soon", "late"]);
    scheduler.stop();
  });

  it("forgets a cancelled delayed task at once: the timer is not kept for it (the store suite proves it is collected)", () => {
    vi.useFakeTimers({ now: 0 });
    const { store, due, scheduler, scheduled } = setup();
    scheduler.start();
    const task = scheduled("a-year-later", 366 * 24 * 3600_000);
    expect(store.nextDueAt()).toBe(task.scheduledFor);
    store.finish(task, TaskState.CANCELLED, 0, {});
    expect(store.nextDueAt()).toBe(Number.POSITIVE_INFINITY);
    expect(scheduler.runOnce(Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(due).toEqual([]);
    scheduler.stop();
  });
});
