import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { WatchTasksResponse } from "../../gen/fastworker/v1/admin_service_pb.js";
import { Priority, TaskSchema, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import type { AsyncQueue } from "../../common/async-queue.js";
import { silentLogger } from "../../common/logger.js";
import { ControlPlaneEvents } from "../engine/events.js";
import { TaskFeed } from "./task-feed.js";
import { NO_OPTIONS, TaskRecord } from "../store/task-record.js";
import { TaskStore } from "../store/task-store.js";

const record = (n: number): TaskRecord => new TaskRecord(`t${n}`, "add", Priority.NORMAL, "null", 0, n, NO_OPTIONS);
const store = new TaskStore({ resultTtlMs: 60_000, maxResults: 100 });
/** A task that is RUNNING (records change only through a store). */
const running = (n: number): TaskRecord => {
  const task = record(n);
  store.insert(task);
  store.takeNext(["add"]);
  return task;
};

function feed(options: { maxBatch?: number; maxBacklog?: number; maxProgress?: number; maxStalledMs?: number } = {}): { events: ControlPlaneEvents; feed: TaskFeed } {
  const events = new ControlPlaneEvents();
  const f = new TaskFeed({
    events,
    describe: (task) => create(TaskSchema, { id: task.id, state: task.state }),
    logger: silentLogger(),
    intervalMs: 60_000, // tests call runOnce() themselves
    ...options,
  });
  f.start();
  return { events, feed: f };
}

/** Takes the messages a queue holds now (never waits for more). */
async function drain(queue: AsyncQueue<WatchTasksResponse>): Promise<WatchTasksResponse[]> {
  const out: WatchTasksResponse[] = [];
  const iterator = queue[Symbol.asyncIterator]();
  for (let i = queue.size; i > 0; i--) {
    const r = await iterator.next();
    if (!r.done) out.push(r.value);
  }
  return out;
}

describe("TaskFeed", () => {
  it("listens to the control plane's events only while a stream is open", () => {
    const { events, feed: f } = feed();
    expect(events.listenerCount("task.dispatched")).toBe(0);
    const abort = new AbortController();
    f.watch(abort.signal);
    expect(events.listenerCount("task.dispatched")).toBe(1);
    expect(events.listenerCount("attempt.lost")).toBe(1);
    abort.abort();
    expect(f.size).toBe(0);
    expect(events.listenerCount("task.dispatched")).toBe(0);
    expect(events.listenerCount("attempt.lost")).toBe(0);
  });

  it("sends an empty first message, then each changed task once, newest first", async () => {
    const { events, feed: f } = feed();
    const queue = f.watch(new AbortController().signal);
    const a = record(1);
    const b = record(2);
    events.emit("task.submitted", a);
    events.emit("task.submitted", b);
    events.emit("task.finished", a);
    f.runOnce(0);
    f.runOnce(0); // nothing new: no message
    const messages = await drain(queue);
    expect(messages.map((m) => m.tasks.map((t) => t.id))).toEqual([[], ["t2", "t1"]]);
  });

  it("counts what does not fit in one message instead of sending it", async () => {
    const { events, feed: f } = feed({ maxBatch: 2 });
    const queue = f.watch(new AbortController().signal);
    for (let n = 1; n <= 5; n++) events.emit("task.submitted", record(n));
    f.runOnce(0);
    const messages = await drain(queue);
    expect(messages[1]!.tasks.map((t) => t.id)).toEqual(["t5", "t4"]);
    expect(messages[1]!.omitted).toBe(3);
  });

  it("only counts changes for a watcher that reads too slowly, and tells it later", async () => {
    const { events, feed: f } = feed({ maxBacklog: 2 });
    const queue = f.watch(new AbortController().signal); // holds the empty first message
    events.emit("task.submitted", record(1));
    f.runOnce(0); // backlog 2 now
    events.emit("task.submitted", record(2));
    events.emit("task.submitted", record(3));
    f.runOnce(0); // skipped: counted
    expect(queue.size).toBe(2);
    const first = await drain(queue);
    expect(first).toHaveLength(2);
    f.runOnce(0); // room again: the count arrives even with nothing new
    const later = await drain(queue);
    expect(later).toMatchObject([{ tasks: [], omitted: 2 }]);
  });

  it("ends a watcher that read nothing for maxStalledMs with RESOURCE_EXHAUSTED, and keeps serving the others", async () => {
    const { events, feed: f } = feed({ maxBacklog: 2, maxStalledMs: 1000 });
    const stuck = f.watch(new AbortController().signal);
    const reading = f.watch(new AbortController().signal);
    let n = 0;
    const tick = async (now: number): Promise<void> => {
      events.emit("task.submitted", record(++n));
      f.runOnce(now);
      await drain(reading);
    };
    await tick(0); // stuck: full from here on
    await tick(100);
    await tick(1000);
    expect(f.size).toBe(2);
    await tick(1101);
    expect(f.size).toBe(1);
    expect(stuck.isClosed).toBe(true);
    await expect(stuck[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.ResourceExhausted, rawMessage: expect.stringContaining("read nothing for 1s") });
    await tick(2000);
    expect(reading.isClosed).toBe(false);
  });

  it("ends every stream when stopped, and refuses new ones", () => {
    const { events, feed: f } = feed();
    const queue = f.watch(new AbortController().signal);
    f.stop();
    expect(queue.isClosed).toBe(true);
    expect(events.listenerCount("task.submitted")).toBe(0);
    expect(f.watch(new AbortController().signal).isClosed).toBe(true);
  });

  it("sends progress reports of running tasks at most once a second, apart from state changes, never as omissions", async () => {
    const { events, feed: f } = feed({ maxBatch: 1, maxProgress: 2 });
    const queue = f.watch(new AbortController().signal);
    const progress = (task: TaskRecord): boolean => events.emit("task.progress", task);
    expect(events.listenerCount("task.progress")).toBe(1);
    const [a, b, c, d] = [1, 2, 3, 4].map(running) as [TaskRecord, TaskRecord, TaskRecord, TaskRecord];
    store.finish(d, TaskState.SUCCEEDED, 0, {}); // finished since it reported: not sent as progress
    progress(a);
    progress(a);
    f.runOnce(1000);
    progress(b);
    f.runOnce(1500); // within the second: held
    progress(c);
    progress(d);
    events.emit("task.finished", a); // a state change: sent as one, not twice
    progress(a);
    f.runOnce(2000);
    const messages = await drain(queue);
    expect(messages.map((m) => [m.tasks.map((t) => t.id), m.omitted])).toEqual([[[], 0], [["t1"], 0], [["t1", "t2", "t3"], 0]]);
  });

  it("drops progress beyond maxProgress instead of counting it", async () => {
    const { events, feed: f } = feed({ maxProgress: 2 });
    const queue = f.watch(new AbortController().signal);
    for (let n = 11; n <= 15; n++) events.emit("task.progress", running(n));
    f.runOnce(0);
    const messages = await drain(queue);
    expect(messages[1]).toMatchObject({ omitted: 0 });
    expect(messages[1]!.tasks).toHaveLength(2);
  });
});
