import { describe, expect, it } from "vitest";
import { Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { seededRandom } from "../../test/helpers/random.js";
import { setState, writable } from "./internal/writable.js";
import { Queues } from "./queues.js";
import { NO_OPTIONS, TaskRecord } from "./task-record.js";

describe("Queues", () => {
  it("takes the oldest takeable task of the names a worker serves, against a brute-force model, over random operations", () => {
    const rand = seededRandom(2026);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const names = Array.from({ length: 40 }, (_, i) => `n${i}`);
    // Workers as the dispatcher sees them: all names, a few, one, and names nothing was queued for.
    const workers: string[][] = [names, names.slice(0, 3), [names[7]!], ["nobody", names[39]!], names.filter((_, i) => i % 2 === 0)];
    const queues = new Queues();
    const queued = new Set<TaskRecord>();
    const running: TaskRecord[] = [];
    const parked = new Set<string>();
    const paused = new Set<string>();
    let seq = 0;
    const expected = (served: readonly string[]): TaskRecord | undefined => {
      let best: TaskRecord | undefined;
      for (const t of queued) {
        if (!served.includes(t.name) || parked.has(t.name) || paused.has(t.name)) continue;
        if (best === undefined || t.priority < best.priority || (t.priority === best.priority && t.queueSeq < best.queueSeq)) best = t;
      }
      return best;
    };
    for (let step = 0; step < 30_000; step++) {
      const r = rand();
      if (r < 0.4) {
        const task = new TaskRecord(`t${seq}`, pick(names), pick([Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW]), "null", 0, seq, NO_OPTIONS);
        writable(task).queueSeq = ++seq;
        queues.add(task, false);
        queued.add(task);
      } else if (r < 0.75) {
        const served = pick(workers);
        const want = expected(served);
        const got = queues.take(served);
        expect(got?.id).toBe(want?.id);
        if (got !== undefined) {
          queues.remove(got); // as TaskStore.takeNext does
          setState(got, TaskState.RUNNING);
          queued.delete(got);
          running.push(got);
        }
      } else if (r < 0.82 && running.length > 0) {
        // A lost attempt: back at its old place.
        const task = running.splice(Math.floor(rand() * running.length), 1)[0]!;
        setState(task, TaskState.QUEUED);
        queues.add(task, true);
        queued.add(task);
      } else if (r < 0.9 && queued.size > 0) {
        // Cancelled while queued, wherever it stands.
        const task = pick([...queued]);
        queues.remove(task);
        setState(task, TaskState.CANCELLED);
        queued.delete(task);
      } else if (r < 0.95) {
        // Paused by an operator (PauseTaskName): independent of the lanes flow limits park.
        const name = pick(names);
        if (paused.has(name)) {
          queues.resumeName(name);
          paused.delete(name);
        } else {
          queues.pauseName(name);
          paused.add(name);
        }
      } else {
        const name = pick(names);
        if (parked.has(name)) {
          queues.unpark(name, "");
          parked.delete(name);
        } else {
          queues.park(name, "");
          parked.add(name);
        }
      }
      expect(queues.total).toBe(queued.size);
    }
  });

  it("finds the oldest task of 10,000 names without comparing every name's head", () => {
    const queues = new Queues();
    const names = Array.from({ length: 10_000 }, (_, i) => `n${i}`);
    let seq = 0;
    for (const name of names) {
      for (let i = 0; i < 3; i++) {
        const task = new TaskRecord(`${name}-${i}`, name, Priority.NORMAL, "null", 0, seq, NO_OPTIONS);
        writable(task).queueSeq = ++seq;
        queues.add(task, false);
      }
    }
    // Round-robin by age across names: each name's first task, then each one's second, …
    const taken: string[] = [];
    for (let task = queues.take(names); task !== undefined; task = queues.take(names)) {
      queues.remove(task);
      setState(task, TaskState.RUNNING);
      taken.push(task.id);
    }
    expect(taken).toHaveLength(30_000);
    expect(taken.slice(0, 3)).toEqual(["n0-0", "n0-1", "n0-2"]);
    expect(taken.at(-1)).toBe("n9999-2");
  });
});
