import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AttemptOutcome } from "../gen/fastworker/v1/task_pb.js";
import {
  AssignmentSchema,
  ReportResultsResponseSchema,
  type ReportResultsRequest,
  type ReportResultsResponse,
} from "../gen/fastworker/v1/worker_service_pb.js";
import { captureLogs } from "../test/helpers/captured-logs.js";
import { MAX_REPORT_ITEMS } from "../common/stream-limits.js";
import { silentLogger } from "../common/logger.js";
import { Executor } from "./executor.js";
import { Reporter, type ReporterLink } from "./reporter.js";
import { RunningAttempt } from "./running-attempt.js";
import { task } from "./task.js";

type Request = Omit<ReportResultsRequest, "$typeName" | "workerId" | "sessionSecret">;

/** One ReportResults call the reporter made, answered by the spec. */
interface Call {
  session: string;
  request: Request;
  resolve(response?: MessageInitShape<typeof ReportResultsResponseSchema>): void;
  reject(err: unknown): void;
}

/** The worker connection as the reporter sees it: every call waits until the spec answers it. */
class FakeLink implements ReporterLink {
  current: string | undefined = "s1";
  readonly calls: Call[] = [];
  readonly gone: string[] = [];
  readonly done: string[] = [];
  private taken = 0;
  private waiting: (() => void) | undefined;

  send(session: string, request: Request): Promise<ReportResultsResponse> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        session,
        request,
        resolve: (response = {}) => resolve(create(ReportResultsResponseSchema, response)),
        reject,
      });
      this.waiting?.();
    });
  }

  currentSession(): string | undefined {
    return this.current;
  }

  heartbeat() {
    return { ping: 9, capacity: 4 };
  }

  sessionGone(session: string): void {
    this.gone.push(session);
  }

  sessionDone(session: string): void {
    this.done.push(session);
  }

  /** The next call the reporter makes (or made since the last one taken). */
  async next(): Promise<Call> {
    while (this.calls.length <= this.taken) await new Promise<void>((resolve) => (this.waiting = resolve));
    return this.calls[this.taken++]!;
  }

  /** Calls made and not yet taken with next(). */
  get untaken(): number {
    return this.calls.length - this.taken;
  }
}

/** Lets every queued microtask (and what they queue) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function attempt(taskId: string, session = "s1", n = 1): RunningAttempt {
  return new RunningAttempt(create(AssignmentSchema, { taskId, attempt: n, task: "work" }), session, Date.now());
}

function setup() {
  const link = new FakeLink();
  const logs = captureLogs();
  const reporter = new Reporter(link, logs.logger);
  return { link, logs, reporter };
}

/** Reports a success the way the executor does: the attempt is marked reported first. */
function succeed(reporter: Reporter, run: RunningAttempt, resultJson = '"ok"'): void {
  run.reported = true;
  reporter.finish(run, AttemptOutcome.SUCCEEDED, resultJson, undefined);
}

const ids = (refs: { taskId: string }[]) => refs.map((r) => r.taskId);

afterEach(() => {
  vi.useRealTimers();
});

describe("Reporter batching and order", () => {
  it("sends what one turn produced in one report, leaving out acks whose result goes with it", async () => {
    const { link, reporter } = setup();
    const done = attempt("t1");
    const started = attempt("t2");
    reporter.ack(done);
    reporter.ack(started);
    succeed(reporter, done);
    const call = await link.next();
    expect(call.session).toBe("s1");
    expect(ids(call.request.results)).toEqual(["t1"]);
    expect(ids(call.request.acks)).toEqual(["t2"]);
    expect(call.request.heartbeat).toMatchObject({ ping: 9, capacity: 4 });
    call.resolve();
    await reporter.flushed();
    expect(link.calls).toHaveLength(1);
  });

  it("sends the results of async handlers that await nothing with their message's acks, the acks left out", async () => {
    // The executor's pattern for such a handler: ack at start, the result one promise job later.
    const { link, reporter } = setup();
    const executor = new Executor({
      tasks: new Map([["quick", task("quick", async (args: unknown) => (args as { i: number }).i)]]),
      concurrency: 4,
      abortGraceMs: 1000,
      sink: reporter,
      logger: silentLogger(),
      maxResultBytes: () => 1024 * 1024,
    });
    for (const i of [1, 2, 3]) executor.start(create(AssignmentSchema, { taskId: `q${i}`, attempt: 1, task: "quick", argsJson: JSON.stringify({ i }) }), "s1");
    const call = await link.next();
    expect(ids(call.request.results)).toEqual(["q1", "q2", "q3"]);
    expect(call.request.acks).toEqual([]);
    expect(call.request.heartbeat).toBeDefined(); // results, no acks, and the heartbeat that proves delivery
    call.resolve();
    await reporter.flushed();
    expect(link.calls).toHaveLength(1);
  });

  it("has up to 4 calls in flight; beyond that, what comes meanwhile goes in the next call, in order", async () => {
    const { link, reporter } = setup();
    const calls = [];
    for (const id of ["a", "b", "c", "d"]) {
      succeed(reporter, attempt(id));
      calls.push(await link.next());
    }
    expect(calls.map((c) => ids(c.request.results))).toEqual([["a"], ["b"], ["c"], ["d"]]);
    succeed(reporter, attempt("e"));
    succeed(reporter, attempt("f"));
    await settle();
    expect(link.untaken).toBe(0);
    calls[0]!.resolve();
    const fifth = await link.next();
    expect(ids(fifth.request.results)).toEqual(["e", "f"]);
    for (const call of [...calls.slice(1), fifth]) call.resolve();
    await reporter.flushed();
  });

  it("cuts reports at MAX_REPORT_ITEMS items, acknowledgements first, with the heartbeat only after the last acknowledgement", async () => {
    const { link, reporter } = setup();
    const runs = Array.from({ length: MAX_REPORT_ITEMS + 2500 }, (_, i) => attempt(`t${i}`));
    for (const run of runs) reporter.ack(run);
    for (const run of runs.slice(0, 9000)) reporter.progress(run, 0.5, "half");
    const first = await link.next();
    expect(first.request.acks).toHaveLength(MAX_REPORT_ITEMS);
    expect(first.request.progress).toHaveLength(0);
    // Its heartbeat would prove delivery of assignments whose acks are still waiting: none yet.
    expect(first.request.heartbeat).toBeUndefined();
    const second = await link.next();
    expect(second.request.acks).toHaveLength(2500);
    expect(second.request.progress).toHaveLength(MAX_REPORT_ITEMS - 2500);
    expect(second.request.heartbeat).toMatchObject({ ping: 9 });
    const third = await link.next();
    expect(third.request.progress).toHaveLength(9000 - (MAX_REPORT_ITEMS - 2500));
    expect(third.request.acks).toHaveLength(0);
    for (const call of [first, second, third]) call.resolve();
    await reporter.flushed();
  });

  it("keeps only the latest progress of an attempt", async () => {
    const { link, reporter } = setup();
    const run = attempt("p");
    reporter.progress(run, 0.1, "started");
    reporter.progress(run, 0.6, "most of it");
    const call = await link.next();
    expect(call.request.progress).toEqual([expect.objectContaining({ taskId: "p", fraction: 0.6, message: "most of it" })]);
    call.resolve();
  });

  it("sends released attempts (a drain hands them back)", async () => {
    const { link, reporter } = setup();
    reporter.release(attempt("r"));
    const call = await link.next();
    expect(ids(call.request.released)).toEqual(["r"]);
    call.resolve();
  });

  it("sends a heartbeat alone when asked, only while connected", async () => {
    const { link, reporter } = setup();
    link.current = undefined;
    reporter.heartbeatSoon();
    await settle();
    expect(link.calls).toHaveLength(0);
    link.current = "s1";
    reporter.heartbeatSoon();
    const call = await link.next();
    expect(call.request).toMatchObject({ acks: [], results: [], progress: [], released: [], heartbeat: { ping: 9 } });
    call.resolve();
  });

  it("splits results over calls at about 4 MiB; an ack whose result waits for a later call stays in the first", async () => {
    const { link, reporter } = setup();
    const [one, two] = [attempt("big-1"), attempt("big-2")];
    reporter.ack(one);
    reporter.ack(two);
    const threeMiB = JSON.stringify("x".repeat(3 * 1024 * 1024));
    succeed(reporter, one, threeMiB);
    succeed(reporter, two, threeMiB);
    const first = await link.next();
    expect(ids(first.request.results)).toEqual(["big-1"]);
    // This report's heartbeat proves delivery: an attempt without its ack would be given up.
    expect(ids(first.request.acks)).toEqual(["big-1", "big-2"]);
    first.resolve();
    const second = await link.next();
    expect(ids(second.request.results)).toEqual(["big-2"]);
    expect(second.request.acks).toEqual([]);
    second.resolve();
    await reporter.flushed();
  });

  it("keeps the acks of attempts whose hand-back waits for a later report (more than MAX_REPORT_ITEMS queued)", async () => {
    // As at a drain deadline (Executor.releaseAll): each attempt acked, then handed back, in one turn.
    const { link, reporter } = setup();
    const runs = Array.from({ length: 6000 }, (_, i) => attempt(`h${i}`));
    for (const run of runs) reporter.ack(run);
    for (const run of runs) {
      run.reported = true;
      reporter.release(run);
    }
    const first = await link.next();
    first.resolve();
    const second = await link.next();
    second.resolve();
    await reporter.flushed();
    expect(first.request.heartbeat).toBeDefined();
    expect(first.request.released.length + second.request.released.length).toBe(6000);
    expect(second.request.released.length).toBeGreaterThan(0);
    // Every attempt whose hand-back is not in the report with the heartbeat has its ack there.
    const acked = new Set(ids(first.request.acks));
    for (const ref of second.request.released) expect(acked.has(ref.taskId)).toBe(true);
  });

  it("reports for the current session first, then for earlier ones, and says when an earlier one is done", async () => {
    const { link, reporter } = setup();
    link.current = "s2";
    succeed(reporter, attempt("old", "s1"));
    succeed(reporter, attempt("new", "s2"));
    const first = await link.next();
    expect([first.session, ids(first.request.results), first.request.heartbeat !== undefined]).toEqual(["s2", ["new"], true]);
    first.resolve();
    const second = await link.next();
    expect([second.session, ids(second.request.results), second.request.heartbeat]).toEqual(["s1", ["old"], undefined]);
    second.resolve();
    await reporter.flushed();
    expect(link.done).toEqual(["s1"]);
    expect(link.gone).toEqual([]);
  });
});

describe("Reporter when a call fails", () => {
  it("puts the failed items back in front of newer ones and retries after a backoff", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { link, logs, reporter } = setup();
    const run = attempt("p");
    succeed(reporter, attempt("a"));
    reporter.progress(run, 0.2, "old");
    const failed = await link.next();
    succeed(reporter, attempt("b"));
    reporter.progress(run, 0.9, "new");
    const second = await link.next(); // in flight too
    expect(ids(second.request.results)).toEqual(["b"]);
    // The stream breaks: both calls fail.
    failed.reject(new ConnectError("connection reset", Code.Unavailable));
    second.reject(new ConnectError("connection reset", Code.Unavailable));
    const logged = await logs.waitFor(/^report failed \(connection reset\); keeping every outcome and retrying in \d+ ms$/);
    const wait = Number(/(\d+) ms$/.exec(logged.msg)![1]);
    await vi.advanceTimersByTimeAsync(wait - 1);
    expect(link.untaken).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    const retry = await link.next();
    expect(ids(retry.request.results)).toEqual(["a", "b"]);
    expect(retry.request.progress.map((p) => p.message)).toEqual(["new"]);
    expect(retry.request.heartbeat).toBeDefined();
    retry.resolve();
    await reporter.flushed();
  });

  it("doubles the backoff on each failure up to 2 s, whatever the error, and starts again after a success", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { link, logs, reporter } = setup();
    succeed(reporter, attempt("a"));
    const waits: number[] = [];
    for (const code of [Code.Unavailable, Code.Internal, Code.DeadlineExceeded, Code.Unavailable, Code.Unknown, Code.Unavailable, Code.Unavailable]) {
      (await link.next()).reject(new ConnectError("no", code));
      await settle(); // the failure is handled in microtasks
      const wait = Number(/retrying in (\d+) ms$/.exec(logs.lines.at(-1)!.msg)![1]);
      waits.push(wait);
      await vi.advanceTimersByTimeAsync(wait);
    }
    // Today exactly 50, 100, 200, 400, 800, 1600, 2000 ms; a jittered backoff would stay inside these bounds.
    expect(waits[0]).toBeLessThanOrEqual(50);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2000);
    expect(waits.at(-1)).toBeGreaterThanOrEqual(1000);
    (await link.next()).resolve();
    await reporter.flushed();
    expect(logs.lines.at(-1)!.msg).toBe("reports go through again after 7 failed attempts");

    succeed(reporter, attempt("b"));
    (await link.next()).reject(new ConnectError("no", Code.Unavailable));
    await settle();
    expect(Number(/retrying in (\d+) ms$/.exec(logs.lines.at(-1)!.msg)![1])).toBeLessThanOrEqual(50);
    reporter.stop();
  });

  it("resume() sends at once instead of waiting out the backoff", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { link, logs, reporter } = setup();
    succeed(reporter, attempt("a"));
    (await link.next()).reject(new ConnectError("down", Code.Unavailable));
    await logs.waitFor(/retrying in \d+ ms$/);
    reporter.resume(); // the dispatch stream is back
    const retry = await link.next(); // no timer advanced
    expect(ids(retry.request.results)).toEqual(["a"]);
    retry.resolve();
    await reporter.flushed();
  });

  it("stop() ends the retries", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { link, logs, reporter } = setup();
    succeed(reporter, attempt("a"));
    (await link.next()).reject(new ConnectError("down", Code.Unavailable));
    await logs.waitFor(/retrying in \d+ ms$/);
    reporter.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(link.untaken).toBe(0);
    expect(reporter.pending).toBe(1);
  });

  it("drops a session's items when the control plane no longer knows it (NOT_FOUND), and goes on with the others", async () => {
    const { link, logs, reporter } = setup();
    link.current = "s2";
    succeed(reporter, attempt("lost-1", "s1"));
    const failing = await link.next();
    expect(failing.session).toBe("s1");
    // More for the forgotten session arrives while its call is in flight, and some for the current one.
    succeed(reporter, attempt("lost-2", "s1"));
    reporter.release(attempt("lost-3", "s1"));
    succeed(reporter, attempt("kept", "s2"));
    await settle(); // they go out (the current session's first) before the first s1 call is answered
    failing.reject(new ConnectError("unknown worker session", Code.NotFound));
    const next = await link.next();
    expect([next.session, ids(next.request.results)]).toEqual(["s2", ["kept"]]);
    next.resolve();
    await reporter.flushed();
    expect(link.gone).toEqual(["s1"]);
    // Both s1 calls went out before the control plane said it no longer knew the session; none after.
    expect(link.calls.filter((c) => c.session === "s1")).toHaveLength(2);
    expect(reporter.pending).toBe(0);
    const warned = await logs.waitFor(/no longer knows this worker session/);
    expect(warned).toMatchObject({ level: "warn", workerId: "s1", dropped: 3 });
  });
});
