import { describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { decodeTask, encodeTask } from "./record-codec.js";
import type { LogValue } from "./state-log.js";

// Records exactly as the log holds them, written by the code before TaskRecord kept its run
// fields apart (main at 8508710): the format is the same, so data written then reads back now.
const QUEUED_V1: LogValue = [1, "resize", 3, 1795700000123, 7, null, 1, 42, 0, 0, 0, 0, null, null, null, 0, 0, 0, 0, null, '{"w":640}'];
const FINISHED_V1: LogValue = [
  1, "send", 2, 1795700000000, 8, { k: "key-1", r: { maxAttempts: 3 }, t: 5000, m: { traceparent: "00-ab-cd-01" } },
  5, 43, 2, 2, 0, 1, null, ["boom", "Error: boom\n  at x", "Error", true], [0.5, "half", 1795700000400],
  1795700000100, 1795700000500, 1795700000450, 9,
  [
    [1, "w-1", "worker-1", 1795700000100, 1795700000101, 1795700000200, AttemptOutcome.FAILED, ["first", "", "Error", true]],
    [2, "w-2", "worker-2", 1795700000450, 0, 1795700000500, AttemptOutcome.FAILED, ["boom", "Error: boom\n  at x", "Error", true]],
  ],
  null,
];

describe("task records in the log", () => {
  it("reads a queued task written before, with no run state, and writes it back the same", () => {
    const task = decodeTask("old-1", QUEUED_V1, () => undefined);
    expect(task).toMatchObject({
      id: "old-1", name: "resize", priority: Priority.NORMAL, argsJson: '{"w":640}', createdAt: 1795700000123, order: 7,
      state: TaskState.QUEUED, queueSeq: 42, attempt: 0, failures: 0, startedAt: 0, finishedAt: 0, scheduledFor: 0,
      attempts: undefined, resultJson: undefined, error: undefined, progress: undefined, evicted: false,
    });
    expect(task.run).toBeUndefined(); // what a queued task costs: no TaskRun
    expect(encodeTask(task)).toEqual(QUEUED_V1);
  });

  it("reads a failed task with options, attempts, errors and progress, and writes it back the same", () => {
    const task = decodeTask("old-2", FINISHED_V1, (id) => (id === "old-2" ? "[1,2]" : undefined));
    expect(task).toMatchObject({
      name: "send", priority: Priority.HIGH, argsJson: "[1,2]", state: TaskState.FAILED, attempt: 2, failures: 2, losses: 1,
      options: { idempotencyKey: "key-1", retry: { maxAttempts: 3 }, timeoutMs: 5000, metadata: { traceparent: "00-ab-cd-01" } },
      error: { message: "boom", retryable: true }, progress: { fraction: 0.5, message: "half" },
      startedAt: 1795700000100, finishedAt: 1795700000500, scheduledFor: 1795700000450, finishSeq: 9,
    });
    expect(task.attempts?.map((a) => [a.number, a.workerId, a.outcome, a.task === task])).toEqual([
      [1, "w-1", AttemptOutcome.FAILED, true],
      [2, "w-2", AttemptOutcome.FAILED, true],
    ]);
    // Args past the inline limit were kept apart; these are small, so they ride inside now.
    expect(encodeTask(task)).toEqual([...(FINISHED_V1 as LogValue[]).slice(0, 20), "[1,2]"]);
  });

  it("keeps a creation time that is not a whole millisecond, or far from now, exactly", () => {
    for (const createdAt of [0, 0.25, 1e-9, -5, 2 ** 52 + 1, 1795700000123.5]) {
      const value = [...(QUEUED_V1 as LogValue[])];
      value[3] = createdAt;
      expect(decodeTask("t", value, () => undefined).createdAt).toBe(createdAt);
    }
  });
});
