import { describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { NO_OPTIONS, TaskRecord } from "./task-record.js";
import { TaskStore } from "./task-store.js";

describe("TaskRecord's packed fields", () => {
  it("keeps state, priority, the evicted flag and args bytes apart, also for args past what a small integer holds", () => {
    const store = new TaskStore({ resultTtlMs: 1000, maxResults: 1 });
    const big = `"${"é".repeat(5 * 1024 * 1024)}"`; // 10 MiB + 2 bytes of UTF-8: bits is a double then
    for (const [args, bytes] of [["null", 4], [big, 10 * 1024 * 1024 + 2]] as const) {
      for (const priority of [Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW]) {
        const task = new TaskRecord(`t-${priority}-${bytes}`, "a", priority, args, 1000, 1, NO_OPTIONS);
        store.insert(task);
        expect([task.state, task.priority, task.argsBytes, task.evicted]).toEqual([TaskState.QUEUED, priority, bytes, false]);
        expect(store.takeNext(["a"])).toBe(task);
        expect([task.state, task.priority, task.argsBytes]).toEqual([TaskState.RUNNING, priority, bytes]);
        const attempt = store.startAttempt(task, "w", "worker", 1000);
        store.endAttempt(attempt, AttemptOutcome.SUCCEEDED, 1001);
        store.finish(task, TaskState.SUCCEEDED, 1001, { resultJson: "1" });
        expect([task.state, task.priority, task.evicted]).toEqual([TaskState.SUCCEEDED, priority, false]);
        store.sweep(5000); // past the TTL: evicted, its args dropped
        expect([task.state, task.priority, task.argsBytes, task.evicted]).toEqual([TaskState.SUCCEEDED, priority, 0, true]);
      }
    }
    expect(store.backlog()).toEqual({ tasks: 0, bytes: 0 });
  });
});
