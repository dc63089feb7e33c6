import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import { LmdbLog } from "./lmdb-log.js";
import { coldTierSuite } from "./cold-tier.suite.js";
import { storeSuite, type SuiteSubject } from "./store.suite.js";
import { NO_OPTIONS, TaskRecord } from "./task-record.js";
import { TaskStore } from "./task-store.js";

storeSuite("in memory", { make: (options) => Promise.resolve(new TaskStore(options)) });
coldTierSuite("in memory", { make: (options) => Promise.resolve(new TaskStore(options)), cold: false });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const lmdbPaths = new WeakMap<TaskStore, string>();
const lmdb: SuiteSubject = {
  async make(options) {
    const dir = mkdtempSync(join(tmpdir(), "fw-store-"));
    dirs.push(dir);
    const { store } = await TaskStore.open({ ...options, log: LmdbLog.open(dir) });
    lmdbPaths.set(store, dir);
    return store;
  },
  async reopen(store, options) {
    const dir = lmdbPaths.get(store)!;
    await store.close();
    const reopened = await TaskStore.open({ ...options, log: LmdbLog.open(dir) });
    lmdbPaths.set(reopened.store, dir);
    return reopened;
  },
};
storeSuite("lmdb", lmdb);
coldTierSuite("lmdb", { ...lmdb, cold: true });

describe("TaskStore at scale", () => {
  it("queues and takes 200,000 tasks in priority order", () => {
    const store = new TaskStore({ resultTtlMs: 1000, maxResults: 10 });
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
  }, 60_000); // a few seconds alone; far more on a loaded 2-core machine
});
