import { describe, expect, it } from "vitest";
import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import { MemoryStore } from "./memory-store.js";
import { storeSuite } from "./store.suite.js";
import { NO_OPTIONS, TaskRecord } from "../engine/task-record.js";

storeSuite("MemoryStore", (options) => new MemoryStore(options));

describe("MemoryStore at scale", () => {
  it("queues and takes 200,000 tasks in priority order", () => {
    const store = new MemoryStore({ resultTtlMs: 1000, maxResults: 10 });
    for (let i = 0; i < 200_000; i++) {
      store.insert(new TaskRecord(`t${i}`, "a", ((i % 4) + 1) as Priority, "null", 0, i + 1, NO_OPTIONS));
    }
    let previous = 0;
    let taken = 0;
    for (let t = store.takeNext(["a"]); t !== undefined; t = store.takeNext(["a"])) {
      expect(t.priority).toBeGreaterThanOrEqual(previous);
      previous = t.priority;
      taken++;
    }
    expect(taken).toBe(200_000);
  });
});
