import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { MisfirePolicy, OverlapPolicy, ScheduleSpecSchema, type ScheduleSpec } from "../../gen/fastworker/v1/schedule_pb.js";
import { AttemptOutcome, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { ReportResultsRequestSchema, TaskDefinitionSchema, type DispatchResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { silentLogger } from "../../common/logger.js";
import { durationFromMs } from "../../common/time.js";
import { jsonToValue } from "../../common/json.js";
import { engineConfig } from "../engine/config.js";
import { ControlPlane } from "../engine/control-plane.js";
import { specFromMessage } from "./schedule-spec.js";
import { ScheduleTicker } from "./schedule-ticker.js";

const tickers: ScheduleTicker[] = [];
afterEach(() => {
  for (const t of tickers.splice(0)) t.stop();
});

/** A control plane in memory and a ticker on a hand-driven clock. */
function setup(start = 0) {
  const plane = new ControlPlane(engineConfig());
  let now = start;
  const ticker = new ScheduleTicker({ plane, logger: silentLogger(), clock: () => now });
  tickers.push(ticker);
  const spec = (fields: Partial<Omit<ScheduleSpec, "$typeName" | "$unknown">> = {}): ScheduleSpec =>
    create(ScheduleSpecSchema, { id: "s", task: "job", every: durationFromMs(1000), ...fields });
  const tasks = async () => (await plane.store.list({ name: "job" }, { limit: 1000 }, now)).tasks.reverse();
  const ticks = async () => (await tasks()).map((t) => t.options.metadata?.["fw-tick"]);
  return {
    plane,
    ticker,
    spec,
    tasks,
    ticks,
    setNow: (t: number) => (now = t),
    create: (fields = {}, at = now) => plane.schedules.create(specFromMessage(spec(fields), { maxPayloadBytes: 1 << 20 }), false, at),
  };
}
const iso = (ms: number): string => new Date(ms).toISOString();

describe("ScheduleTicker (runOnce on a hand-driven clock)", () => {
  it("makes one task per tick, with its schedule and tick in the metadata and a key from both", async () => {
    const s = setup(0);
    s.ticker.start();
    s.create({ args: jsonToValue({ fromJson: true }) });
    for (const t of [999, 1000, 1000, 1500, 2000, 3000]) s.ticker.runOnce(t);
    expect(await s.ticks()).toEqual([iso(1000), iso(2000), iso(3000)]);
    const first = (await s.tasks())[0]!;
    expect(first.options).toMatchObject({ idempotencyKey: `schedule:s@${iso(1000)}`, metadata: { "fw-schedule": "s", "fw-tick": iso(1000) } });
    expect(s.plane.schedules.get("s")).toMatchObject({ lastTick: 3000, nextTick: 4000, runsTotal: 3 });
  });

  it("ticks once however many workers declare the same schedule, and reports a conflicting declaration", async () => {
    const s = setup(0);
    s.ticker.start();
    const declare = (worker: string, every: number) => {
      const definition = create(TaskDefinitionSchema, { name: "job", schedules: [s.spec({ id: "", task: "", every: durationFromMs(every) })] });
      const { worker: w } = s.plane.register({ name: worker, host: "h", pid: 1, version: "t", concurrency: 1, names: ["job"] }, [definition], 0);
      s.plane.attach(w, new AsyncQueue<DispatchResponse>(), undefined, undefined, 0);
    };
    const conflicts: string[] = [];
    s.plane.events.on("schedule.conflict", (_id, message) => conflicts.push(message));
    for (const w of ["w1", "w2", "w3", "embedded"]) declare(w, 1000);
    expect(s.plane.schedules.size).toBe(1);
    for (let t = 1000; t <= 10_000; t += 1000) s.ticker.runOnce(t);
    expect(await s.ticks()).toHaveLength(10);
    expect(new Set(await s.ticks()).size).toBe(10);
    expect(conflicts).toEqual([]);
    declare("w5", 2000);
    expect(conflicts[0]).toMatch(/declared as every 1s → job\(null\) by embedded, and as every 2s → job\(null\) by w5, whose declaration is in force/);
    expect(s.plane.schedules.get("job")!.conflict).toBe(conflicts[0]);
  });

  it("misfire run-once: one task for the latest tick missed while the control plane was down", async () => {
    const s = setup(0);
    s.create({ misfire: MisfirePolicy.RUN_ONCE }, 0); // next tick 1000
    s.setNow(5500); // "restarted" at 5.5 s: ticks 1000..5000 passed while down
    s.ticker.start();
    expect(await s.ticks()).toEqual([iso(5000)]);
    const entry = s.plane.schedules.get("s")!;
    expect(entry).toMatchObject({ nextTick: 6000, skippedTotal: 4 });
    expect(entry.lastRun!.note).toMatch(/missed while the control plane was down; ran once at recovery/);
    s.ticker.runOnce(6000);
    expect(await s.ticks()).toEqual([iso(5000), iso(6000)]);
  });

  it("misfire skip: no task for ticks missed while down; the next tick after the restart runs", async () => {
    const s = setup(0);
    s.create({ misfire: MisfirePolicy.SKIP }, 0);
    s.setNow(5500);
    s.ticker.start();
    expect(await s.ticks()).toEqual([]);
    expect(s.plane.schedules.get("s")!.lastRun!.note).toMatch(/^skipped: missed while the control plane was down/);
    s.ticker.runOnce(6000);
    expect(await s.ticks()).toEqual([iso(6000)]);
  });

  it("a crash between a tick's task and the schedule's new last tick cannot make a second task", async () => {
    const s = setup(0);
    s.ticker.start();
    const entry = s.create();
    s.ticker.runOnce(1000);
    // As if only the task had been written: the schedule still says tick 1000 is next.
    entry.lastTick = 0;
    entry.nextTick = 1000;
    s.ticker.runOnce(1000);
    expect(await s.ticks()).toEqual([iso(1000)]);
    expect(entry.lastRun!.note).toBe("this tick's task already existed");
  });

  it("overlap skip skips ticks while the previous run is unfinished; queue-one runs one when it ends", async () => {
    for (const overlap of [OverlapPolicy.SKIP, OverlapPolicy.QUEUE_ONE, OverlapPolicy.ALLOW]) {
      const s = setup(0);
      s.ticker.start();
      s.create({ overlap });
      const { worker } = s.plane.register({ name: "w", host: "h", pid: 1, version: "t", concurrency: 10, names: ["job"] }, [], 0);
      s.plane.attach(worker, new AsyncQueue<DispatchResponse>(), undefined, undefined, 0);
      s.ticker.runOnce(1000);
      s.plane.dispatcher.runOnce(1000);
      s.ticker.runOnce(2000); // the 1000 run still runs
      s.ticker.runOnce(3000);
      const first = (await s.tasks())[0]!;
      s.plane.report(worker, create(ReportResultsRequestSchema, { results: [{ taskId: first.id, attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: "1" }] }), 3100);
      s.ticker.runOnce(3100);
      const ticks = await s.ticks();
      if (overlap === OverlapPolicy.SKIP) expect(ticks).toEqual([iso(1000)]);
      if (overlap === OverlapPolicy.QUEUE_ONE) expect(ticks).toEqual([iso(1000), iso(2000)]); // 3000 skipped: one waits at most
      if (overlap === OverlapPolicy.ALLOW) expect(ticks).toEqual([iso(1000), iso(2000), iso(3000)]);
      expect(first.state).toBe(TaskState.SUCCEEDED);
    }
  });

  it("a paused schedule makes no tasks, and resumes at the next tick after now", async () => {
    const s = setup(0);
    s.ticker.start();
    s.create();
    s.plane.schedules.pause("s");
    for (let t = 1000; t <= 4000; t += 1000) s.ticker.runOnce(t);
    expect(await s.ticks()).toEqual([]);
    s.plane.schedules.resume("s", 4200);
    s.ticker.runOnce(5000);
    expect(await s.ticks()).toEqual([iso(5000)]);
  });
});
