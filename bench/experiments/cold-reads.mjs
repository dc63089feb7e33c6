#!/usr/bin/env node
// What reads cost when a backlog is in the cold tier: the store itself (no server) on LMDB with
// N queued tasks of one name past hotQueued, timed per operation.
//   npm run build && node bench/experiments/cold-reads.mjs [N=1000000]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LmdbLog } from "../../dist/server/store/lmdb-log.js";
import { NO_OPTIONS, TaskRecord } from "../../dist/server/store/task-record.js";
import { TaskStore } from "../../dist/server/store/task-store.js";

const N = Number(process.argv[2] ?? 1_000_000);
const HOT = 10_000;
const dir = mkdtempSync(join(tmpdir(), "fw-cold-reads-"));
const time = (what, n, fn) => {
  const started = performance.now();
  let out;
  for (let i = 0; i < n; i++) out = fn(i);
  const ms = performance.now() - started;
  console.log(`${what}: ${n === 1 ? `${ms.toFixed(1)} ms` : `${((ms * 1000) / n).toFixed(1)} µs each (${n})`}`);
  return out;
};
try {
  const options = { resultTtlMs: 3_600_000, maxResults: 100_000, hotQueued: HOT };
  let { store } = await TaskStore.open({ ...options, log: LmdbLog.open(dir) });
  const ids = [];
  let started = performance.now();
  for (let i = 0; i < N; i++) {
    const task = new TaskRecord(store.ids, "noop", 3, `{"i":${i}}`, Date.now(), i + 1, NO_OPTIONS);
    store.insert(task);
    if (i % 1000 === 0) ids.push(task.id);
    if (i % 10_000 === 9_999) await store.commit();
  }
  await store.commit();
  console.log(`${N.toLocaleString("en")} inserted (${HOT.toLocaleString("en")} in memory) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const now = Date.now();
  time("GetTask of a cold task (read from disk, then pinned)", ids.length - 20, (i) => store.get(ids[i + 20], now));
  time("a page of 50, newest first", 20, () => store.list({}, { limit: 50 }, now));
  time("a page of 50 failed tasks (the tier skipped)", 1, () => store.list({ states: [4] }, { limit: 50 }, now));
  time("a page of 50 with a text filter (reads every cold task)", 1, () => store.list({ text: /"i":5\b/ }, { limit: 50 }, now));
  time(`the first page in run order (reads every cold task)`, 1, () => store.list({}, { order: "next", limit: 50 }, now));
  time("takeNext, with top-ups from disk", 200_000, () => store.takeNext(["noop"]));
  await store.close();
  started = performance.now();
  ({ store } = await TaskStore.open({ ...options, log: LmdbLog.open(dir) }));
  console.log(`reopened (the cold keys read) in ${(performance.now() - started).toFixed(0)} ms; backlog ${store.backlog().tasks.toLocaleString("en")}`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
