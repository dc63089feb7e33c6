import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { LmdbLog } from "./lmdb-log.js";
import { NO_OPTIONS, TaskRecord, type SubmitOptions } from "./task-record.js";
import type { TaskFilter, TaskPage } from "./store.js";
import { TaskStore, type TaskStoreOptions } from "./task-store.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A small deterministic generator (mulberry32), so a failure replays with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every page of a listing in run order, forward from the first, backward
 * from the last page, and forward again from a page in the middle: the
 * orders on each page, the totals and which cursors are given.
 */
async function runOrderPages(s: TaskStore, filter: TaskFilter, now: number): Promise<unknown[]> {
  const out: unknown[] = [];
  const limit = 7;
  const shape = (p: TaskPage): unknown => [p.total, p.tasks.map((t) => t.order), p.next !== undefined, p.previous !== undefined];
  let middle: TaskPage | undefined;
  for (let p = await s.list(filter, { order: "next", limit }, now), n = 0; ; p = await s.list(filter, { order: "next", cursor: p.next, limit }, now), n++) {
    out.push(shape(p));
    if (n === 2) middle = p;
    if (p.next === undefined || n > 50) break;
  }
  for (let p = await s.list(filter, { order: "next", last: true, limit }, now), n = 0; ; p = await s.list(filter, { order: "next", cursor: p.previous, limit }, now), n++) {
    out.push(shape(p));
    if (p.previous === undefined || n > 50) break;
  }
  if (middle?.previous !== undefined) out.push(shape(await s.list(filter, { order: "next", cursor: middle.previous, limit }, now)));
  return out;
}

/**
 * A name's listing takes its total from the per-name counters (not a walk):
 * it must be what a walk of every task finds (a time filter that every task
 * passes makes the listing count by walking), for all states and for some.
 */
async function namesCountedRight(s: TaskStore, name: string, now: number): Promise<void> {
  for (const filter of [{ name }, { name, states: [TaskState.QUEUED, TaskState.SUCCEEDED] }]) {
    const walked = (await s.list({ ...filter, createdAfter: 0 }, { limit: 1 }, now)).total;
    expect((await s.list(filter, { limit: 1 }, now)).total, JSON.stringify(filter)).toBe(walked);
  }
}

/**
 * The cold tier against the store in memory, operation by operation: the
 * same random submissions (names, priorities, keys, large args, delays),
 * takes by workers serving different names, results, retries, put-backs,
 * cancels by id, commits at random points and restarts of the durable one.
 * Every take must give the same task (by creation order), and the counts,
 * backlogs and lookups must agree throughout.
 */
describe("cold tier, differential against the store in memory", () => {
  // Two seeds by default: each takes 15-40 s on the CI machine, and the unit tier waits for the
  // slowest file before the process tiers start (CI must stay under 10 minutes; at four seeds this
  // file was 85 s of a 9.6-minute run). COLD_SEEDS=from-to explores more (seeds 1-4 pass with the
  // per-name totals check; 5-14 passed before it).
  const [from, to] = (process.env.COLD_SEEDS ?? "1-2").split("-").map(Number) as [number, number];
  for (let seed = from; seed <= to; seed++) {
    it(`seed ${seed}: every take, count and lookup agrees`, async () => {
      const rand = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
      const options: TaskStoreOptions = { resultTtlMs: 3_600_000, maxResults: 100_000 };
      const dir = mkdtempSync(join(tmpdir(), "fw-cold-"));
      dirs.push(dir);
      const ref = new TaskStore(options);
      const hot = { ...options, hotQueued: 16 };
      let subject = (await TaskStore.open({ ...hot, log: LmdbLog.open(dir) })).store;
      /** Ids by creation order, per store (the subject's survive its restarts). */
      const refIds = new Map<number, string>();
      const subjectIds = new Map<number, string>();
      const queued = new Set<number>();
      const running = new Set<number>();
      let order = 0;
      let now = 1_000_000;
      const names = ["a", "b", "c"];
      const workers = [["a"], ["b"], ["a", "b"], ["a", "b", "c"], ["c", "a"]];
      const both = (o: number): [TaskRecord, TaskRecord] => [ref.get(refIds.get(o)!, now)!, subject.get(subjectIds.get(o)!, now)!];
      const check = (): void => {
        expect(subject.counts()).toEqual(ref.counts());
        expect(subject.backlog()).toEqual(ref.backlog());
        for (const name of names) expect([...subject.countsOf(name)]).toEqual([...ref.countsOf(name)]);
      };
      for (let step = 0; step < 3000; step++) {
        now += 1;
        const r = rand();
        if (r < 0.45) {
          // A submission (sometimes a burst).
          const burst = rand() < 0.1 ? 40 : 1;
          for (let i = 0; i < burst; i++) {
            const o = ++order;
            const name = pick(names);
            const priority = pick([Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.NORMAL, Priority.LOW]);
            const opts: SubmitOptions = rand() < 0.05 ? { idempotencyKey: `k${o}` } : NO_OPTIONS;
            const args = rand() < 0.03 ? JSON.stringify({ o, pad: "x".repeat(1500) }) : JSON.stringify({ o });
            const delay = rand() < 0.05 ? now + 5 : 0;
            const a = new TaskRecord(ref.ids, name, priority, args, now, o, opts);
            const b = new TaskRecord(subject.ids, name, priority, args, now, o, opts);
            ref.insert(a, delay);
            subject.insert(b, delay);
            refIds.set(o, a.id);
            subjectIds.set(o, b.id);
            if (delay === 0) queued.add(o);
          }
        } else if (r < 0.8) {
          // A take, and what becomes of it.
          const served = pick(workers);
          const a = ref.takeNext(served);
          const b = subject.takeNext(served);
          expect(b?.order, `step ${step}: take for ${served.join(",")}`).toBe(a?.order);
          if (a === undefined || b === undefined) continue;
          queued.delete(a.order);
          const fate = rand();
          const attempts = [ref.startAttempt(a, "w", "w", now), subject.startAttempt(b, "w", "w", now)] as const;
          if (fate < 0.5) {
            ref.endAttempt(attempts[0], AttemptOutcome.SUCCEEDED, now);
            subject.endAttempt(attempts[1], AttemptOutcome.SUCCEEDED, now);
            ref.finish(a, TaskState.SUCCEEDED, now, { resultJson: "1" });
            subject.finish(b, TaskState.SUCCEEDED, now, { resultJson: "1" });
          } else if (fate < 0.65) {
            // Failed, and retried at once: queued at the back.
            for (const [s, t, at] of [[ref, a, attempts[0]], [subject, b, attempts[1]]] as const) {
              s.endAttempt(at, AttemptOutcome.FAILED, now);
              s.countFailure(t);
              s.finish(t, TaskState.FAILED, now, {});
              s.restartSeries(t);
            }
            queued.add(a.order);
          } else if (fate < 0.75) {
            // Lost: put back at its old place.
            for (const [s, t, at] of [[ref, a, attempts[0]], [subject, b, attempts[1]]] as const) {
              s.endAttempt(at, AttemptOutcome.LOST, now);
              s.countLoss(t);
              s.requeue(t);
            }
            queued.add(a.order);
          } else {
            running.add(a.order);
          }
        } else if (r < 0.85 && queued.size > 0) {
          // A cancel by id, often of a task deep in the backlog.
          const o = pick([...queued]);
          const [a, b] = both(o);
          expect(b.state, `step ${step}: the state of ${o}`).toBe(a.state);
          expect(b.argsJson).toBe(a.argsJson);
          ref.finish(a, TaskState.CANCELLED, now, {});
          subject.finish(b, TaskState.CANCELLED, now, {});
          queued.delete(o);
        } else if (r < 0.9 && running.size > 0) {
          const o = pick([...running]);
          running.delete(o);
          const [a, b] = both(o);
          ref.finish(a, TaskState.SUCCEEDED, now, { resultJson: "2" });
          subject.finish(b, TaskState.SUCCEEDED, now, { resultJson: "2" });
        } else if (r < 0.93) {
          // Delays end: due tasks are queued.
          // Tasks due at the same time come out in any order: both queue them by creation order.
          const due = (s: TaskStore): TaskRecord[] => {
            const out: TaskRecord[] = [];
            for (let t = s.takeDue(now); t !== undefined; t = s.takeDue(now)) out.push(t);
            return out.sort((x, y) => x.order - y.order);
          };
          const [fromRef, fromSubject] = [due(ref), due(subject)];
          expect(fromSubject.map((t) => t.order)).toEqual(fromRef.map((t) => t.order));
          fromRef.forEach((t, i) => {
            ref.enqueue(t);
            subject.enqueue(fromSubject[i]!);
            queued.add(t.order);
          });
        } else if (r < 0.96) {
          // A flow limit holds a name back, or lets it go.
          const name = pick(names);
          for (const s of [ref, subject]) {
            if (s.isParked(name, "")) s.unparkLane(name, "");
            else s.parkLane(name, "");
          }
        } else if (r < 0.98) {
          await subject.commit();
        } else if (r < 0.99) {
          // A lookup by idempotency key, and a page of the listing in run order.
          const o = pick([...refIds.keys()]);
          const key = `k${o}`;
          const [ka, kb] = [ref.getByKey("a", key, now), subject.getByKey("a", key, now)];
          expect(kb?.task?.order).toBe(ka?.task?.order);
          const name = pick(names);
          const page = async (s: TaskStore) => (await s.list({ states: [TaskState.QUEUED] }, { order: "next", limit: 10 }, now)).tasks.map((t) => t.order);
          expect(await page(subject)).toEqual(await page(ref));
          // Every page in run order, both ways, with filters the tier's lanes answer and ones that read every task.
          const text = new RegExp(`"o":${pick([...refIds.keys()])}\\d*\\b`);
          for (const filter of [{}, { name }, { priority: Priority.NORMAL }, { text }, { states: [TaskState.QUEUED, TaskState.SCHEDULED] }]) {
            expect(await runOrderPages(subject, filter, now), `${JSON.stringify(filter)} ${text}`).toEqual(await runOrderPages(ref, filter, now));
          }
          const matching = async (s: TaskStore) => (await s.matching({ text, states: [TaskState.QUEUED] }, now)).tasks.map((t) => t.order);
          expect(await matching(subject)).toEqual(await matching(ref));
          for (const filter of [{ states: [TaskState.SUCCEEDED] }, { name }, { name, states: [TaskState.QUEUED] }, { priority: Priority.LOW }]) {
            const listing = async (s: TaskStore) => {
              const p = await s.list(filter, { order: "oldest", limit: 10 }, now);
              return [p.total, p.tasks.map((t) => t.order)];
            };
            expect(await listing(subject), JSON.stringify(filter)).toEqual(await listing(ref));
          }
          for (const s of [ref, subject]) await namesCountedRight(s, name, now);
        } else {
          await subject.commit();
          await subject.close();
          subject = (await TaskStore.open({ ...hot, log: LmdbLog.open(dir) })).store;
          // Parked lanes are the engine's to restore (from its flow limits), as it does after a restart.
          for (const name of names) if (ref.isParked(name, "")) subject.parkLane(name, "");
        }
        if (step % 50 === 0) check();
      }
      check();
      for (const name of names) for (const s of [ref, subject]) await namesCountedRight(s, name, now);
      for (const name of names) for (const s of [ref, subject]) s.unparkLane(name, "");
      // The rest, in order, for a worker serving every name.
      for (let a = ref.takeNext(names); a !== undefined; a = ref.takeNext(names)) {
        const b = subject.takeNext(names);
        expect(b?.order).toBe(a.order);
      }
      expect(subject.takeNext(names)).toBeUndefined();
      await subject.close();
    }, 120_000);
  }
});
