import { afterEach, describe, expect, it, vi } from "vitest";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { Scheduler } from "./scheduler.js";
import { NO_OPTIONS, TaskRecord } from "../store/task-record.js";
import { TaskStore } from "../store/task-store.js";

afterEach(() => {
  vi.useRealTimers();
});

const store = new TaskStore({ resultTtlMs: 60_000, maxResults: 100 });
const scheduled = (id: string, at: number): TaskRecord => {
  const task = new TaskRecord(id, "t", 3, "null", 0, 1, NO_OPTIONS);
  store.insert(task, at);
  return task;
};

describe("Scheduler", () => {
  it("hands tasks back in due order, never early, skipping ones that left SCHEDULED", () => {
    const due: string[] = [];
    const scheduler = new Scheduler((t) => due.push(t.id));
    const [a, b, c] = [scheduled("a", 300), scheduled("b", 100), scheduled("c", 200)];
    [a, b, c].forEach((t) => scheduler.add(t, 0));
    store.finish(c, TaskState.CANCELLED, 0, {});
    expect(scheduler.runOnce(99)).toBe(0);
    expect(scheduler.runOnce(250)).toBe(1);
    expect(scheduler.runOnce(1000)).toBe(1);
    expect(due).toEqual(["b", "a"]);
  });

  it("fires on its own timer at the due time (fake clock)", () => {
    vi.useFakeTimers({ now: 0 });
    const due: string[] = [];
    const scheduler = new Scheduler((t) => due.push(t.id));
    scheduler.start();
    scheduler.add(scheduled("late", 5000), 0);
    scheduler.add(scheduled("soon", 1000), 0);
    vi.advanceTimersByTime(999);
    expect(due).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(due).toEqual(["soon"]);
    vi.advanceTimersByTime(4000);
    expect(due).toEqual(["soon", "late"]);
    scheduler.stop();
  });
});
