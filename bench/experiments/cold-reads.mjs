#!/usr/bin/env node
// What reads cost when a backlog is in the cold tier: the store itself (no server) on LMDB with
// N queued tasks of one name past hotQueued, timed per operation. Listings and bulk selections are
// asynchronous (a long walk lets the event loop run between chunks): for those, the total time and
// the longest event-loop turn while they ran (a setImmediate chain measures the gaps).
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
/** Runs an asynchronous read; prints its total time and the longest event-loop turn meanwhile. */
const measure = async (what, fn) => {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  const out = await fn();
  const total = performance.now() - started;
  running = false;
  longest = Math.max(longest, performance.now() - last);
  console.log(`${what}: ${total.toFixed(1)} ms, longest event-loop turn ${longest.toFixed(1)} ms`);
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
  await measure("a page of 50, newest first", () => store.list({}, { limit: 50 }, now));
  await measure("a page of 50 failed tasks (the tier skipped)", () => store.list({ states: [4] }, { limit: 50 }, now));
  await measure("a page of 50 with a text filter (reads every cold task)", () => store.list({ text: /"i":5\b/ }, { limit: 50 }, now));
  await measure("a page of 50 of one name, newest first (its total from the per-name counters)", () => store.list({ name: "noop" }, { limit: 50 }, now));
  const first = await measure("the first page in run order", () => store.list({}, { order: "next", limit: 50 }, now));
  await measure("the next page in run order (from a cursor)", () => store.list({}, { order: "next", cursor: first.next, limit: 50 }, now));
  await measure("the last page in run order", () => store.list({}, { order: "next", last: true, limit: 50 }, now));
  await measure("a page in run order with a text filter (reads every cold task)", () => store.list({ text: /"i":5\b/ }, { order: "next", limit: 50 }, now));
  await measure("a bulk selection of queued tasks with a text filter (reads every cold task)", () => store.matching({ states: [1], text: /"i":5\b/ }, now, 100_000));
  time("takeNext, with top-ups from disk", 200_000, () => store.takeNext(["noop"]));
  await store.close();
  started = performance.now();
  ({ store } = await TaskStore.open({ ...options, log: LmdbLog.open(dir) }));
  console.log(`reopened (the cold keys read) in ${(performance.now() - started).toFixed(0)} ms; backlog ${store.backlog().tasks.toLocaleString("en")}`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
