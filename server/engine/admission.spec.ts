import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { engineConfig } from "./config.js";
import { ControlPlane } from "./control-plane.js";
import { NO_OPTIONS, type SubmitOptions } from "../store/task-record.js";

function engine(maxQueued: number, maxQueuedBytes: number) {
  const plane = new ControlPlane(engineConfig({ maxQueued, maxQueuedBytes }));
  const submit = (argsJson: string, delayMs = 0, options: SubmitOptions = NO_OPTIONS) =>
    plane.submit({ name: "job", argsJson, priority: Priority.NORMAL, delayMs, options }, 0).task!;
  return { plane, submit };
}

function refusal(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  throw new Error("expected RESOURCE_EXHAUSTED, but the call was admitted");
}

describe("admission control", () => {
  it("refuses a task past --max-queued (queued and scheduled count), and admits again once one leaves", () => {
    const { plane, submit } = engine(3, 1 << 20);
    const [a] = [submit("1"), submit("2", 60_000), submit("3", 0, { idempotencyKey: "k" })];
    const err = refusal(() => submit("4"));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toBe("the control plane holds 3 queued and scheduled tasks, its limit (fw-server --max-queued 3); retry later, add workers, or raise the limit");
    // A duplicate of a task it holds is not a new task: answered, not refused.
    expect(plane.submit({ name: "job", argsJson: "3", priority: 0, delayMs: 0, options: { idempotencyKey: "k" } }, 0).deduplicated).toBe(true);
    plane.cancel(a!.id, "", 1);
    expect(submit("5").state).toBe(TaskState.QUEUED);
    // RetryTask puts a task back in the queue: admitted like a submission.
    expect(refusal(() => plane.retry(a!.id, 2)).code).toBe(Code.ResourceExhausted);
  });

  it("refuses a task whose args would take the backlog past --max-queued-bytes, counting UTF-8 bytes", () => {
    const { submit } = engine(1000, 100);
    submit(JSON.stringify("é".repeat(20))); // 42 bytes
    submit(JSON.stringify("x".repeat(50))); // 52 bytes: 94 in all
    const err = refusal(() => submit(JSON.stringify("xxxxx"))); // 7 more would be 101
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toBe("the args of queued and scheduled tasks take 94 B; this task's 7 B would pass the limit of 100 B (fw-server --max-queued-bytes); retry later, add workers, or pass a reference to large data");
    expect(submit(JSON.stringify("xxxx")).state).toBe(TaskState.QUEUED); // 6 more: exactly 100
  });
});
