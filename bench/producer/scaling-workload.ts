import { taskNames } from "../workers/task-names.mjs";
import type { NamedTask, QueueDriver } from "./driver.js";
import type { ScalingReport, ScalingWorkload, StepMessage, StepReport } from "./protocol.js";
import { bounded, sleep } from "./waits.js";
import type { WorkloadContext } from "./workloads.js";

/** The paced step submits what is due every tick (setTimeout's floor on Node is about 1 ms). */
const TICK_MS = 1;
/** Paced: at most this many seconds' worth of tasks unfinished; beyond it submissions are skipped and counted (the rate is not sustainable). */
const PACED_BACKLOG_SECONDS = 2;

/** The harness's side of a scaling run: its step messages in, the step reports out. */
export interface StepChannel {
  next(): Promise<StepMessage>;
  report(report: StepReport): Promise<void>;
}

/**
 * One producer process of a scaling point: warm up with the closed loop,
 * say "warm", then run each step the harness sends (all producers get it at
 * once) and report it, until "finish".
 */
export async function scaling(driver: QueueDriver, w: ScalingWorkload, ctx: WorkloadContext, channel: StepChannel): Promise<ScalingReport> {
  if (w.chunk < 1 || w.chunk > w.window) throw new Error(`chunk must be between 1 and the window (got ${w.chunk} of ${w.window})`);
  const tasks = new TaskMaker(w);
  await closedLoop(driver, w, tasks, w.warmupSeconds, ctx.timeoutMs);
  ctx.mark("warm");
  for (;;) {
    const step = await channel.next();
    if (step.step === "finish") return { kind: "scaling", sessions: driver.sessions };
    if (step.step === "max") await channel.report(await closedLoop(driver, w, tasks, step.seconds, ctx.timeoutMs));
    else await channel.report(await paced(driver, w, tasks, step.rate, step.seconds, ctx.timeoutMs));
  }
}

/** The tasks of a run: names in turn, args of the chosen size (one padding string, shared). */
class TaskMaker {
  private readonly names: string[];
  private readonly pad: string;
  private next = 0;

  constructor(w: ScalingWorkload) {
    this.names = taskNames(w.names);
    // {"i":1000000,"pad":""} is 21 bytes of JSON: pad the rest.
    this.pad = "x".repeat(Math.max(0, w.payloadBytes - 21));
  }

  take(count: number): NamedTask[] {
    const out: NamedTask[] = new Array<NamedTask>(count);
    for (let k = 0; k < count; k++) {
      const i = this.next++;
      out[k] = { name: this.names[i % this.names.length]!, args: { i, pad: this.pad } };
    }
    return out;
  }
}

/**
 * As fast as the system goes: keep `window` tasks unfinished, submitting a
 * chunk on the next session whenever a chunk's worth has finished, for
 * `seconds`; then stop submitting and wait for the rest (bounded).
 */
async function closedLoop(driver: QueueDriver, w: ScalingWorkload, tasks: TaskMaker, seconds: number, timeoutMs: number): Promise<StepReport> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let outstanding = 0;
  let completed = 0;
  let completedInWindow = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settle = (): void => {
    outstanding--;
    completed++;
    if (performance.now() <= end) completedInWindow++;
    if (outstanding + w.chunk <= w.window || failure !== undefined) wakeNow();
  };
  const fail = (err: unknown): void => {
    failure ??= err;
    settle();
  };
  const wakeNow = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const endTimer = setTimeout(wakeNow, seconds * 1000);
  let session = 0;
  while (performance.now() < end && failure === undefined) {
    while (outstanding + w.chunk <= w.window) {
      outstanding += w.chunk;
      for (const result of driver.callBatch(session, tasks.take(w.chunk))) result.then(settle, fail);
      session = (session + 1) % driver.sessions;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
  clearTimeout(endTimer);
  await drain(() => outstanding, () => failure, timeoutMs, "closed loop");
  return { step: "max", seconds, completedInWindow, completed };
}

/**
 * A steady load: `rate` tasks per second for `seconds`, what is due sent
 * every tick, spread over the sessions in turn (each session's share of a
 * tick in one batch); every task timed from its submit call to its result.
 */
async function paced(driver: QueueDriver, w: ScalingWorkload, tasks: TaskMaker, rate: number, seconds: number, timeoutMs: number): Promise<StepReport> {
  const latencyMs: number[] = [];
  const lagMs: number[] = [];
  const cap = Math.max(w.window, Math.ceil(rate * PACED_BACKLOG_SECONDS));
  const start = performance.now();
  const end = start + seconds * 1000;
  let scheduled = 0; // sent + skipped
  let submitted = 0;
  let skipped = 0;
  let outstanding = 0;
  let completed = 0;
  let completedInWindow = 0;
  let failure: unknown;
  let session = 0;
  for (let now = start; now < end && failure === undefined; now = performance.now()) {
    const due = Math.floor(((now - start) / 1000) * rate) - scheduled;
    if (due > 0) {
      lagMs.push(now - (start + (scheduled / rate) * 1000));
      const n = Math.min(due, Math.max(0, cap - outstanding));
      scheduled += due;
      skipped += due - n;
      submitted += n;
      outstanding += n;
      const called = performance.now();
      const settle = (): void => {
        const t = performance.now();
        latencyMs.push(t - called);
        outstanding--;
        completed++;
        if (t <= end) completedInWindow++;
      };
      const fail = (err: unknown): void => {
        failure ??= err;
        outstanding--;
      };
      // n tasks over the sessions in turn: each session's share in one batch.
      const sessions = driver.sessions;
      for (let j = 0; j < Math.min(n, sessions); j++) {
        const share = Math.floor(n / sessions) + (j < n % sessions ? 1 : 0);
        for (const result of driver.callBatch((session + j) % sessions, tasks.take(share))) result.then(settle, fail);
      }
      session = (session + n) % sessions;
    }
    await sleep(TICK_MS);
  }
  await drain(() => outstanding, () => failure, timeoutMs, "paced load");
  return { step: "paced", seconds, completedInWindow, completed, rate, submitted, skipped, latencyMs: latencyMs.map(micros), lagMs: lagMs.map(micros) };
}

/** Waits (bounded) until nothing is outstanding; throws the first task failure. */
async function drain(outstanding: () => number, failure: () => unknown, timeoutMs: number, what: string): Promise<void> {
  const check = async (): Promise<void> => {
    while (outstanding() > 0 && failure() === undefined) await sleep(5);
  };
  await bounded(check(), timeoutMs, () => `${what}: ${outstanding()} tasks still unfinished`);
  const err = failure();
  if (err !== undefined) throw err instanceof Error ? err : new Error(String(err));
}

/** Milliseconds to the microsecond (smaller reports over IPC). */
function micros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
