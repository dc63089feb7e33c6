import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AsyncQueue } from "../common/async-queue.js";
import type { ServiceClient } from "../common/transport/grpc-client.js";
import { TaskState } from "../gen/fastworker/v1/task_pb.js";
import {
  SessionResponseSchema,
  type SessionRequestSchema,
  type SessionResponse,
  type TaskService,
} from "../gen/fastworker/v1/task_service_pb.js";
import { MAX_SESSION_FOLLOWS, MAX_SESSION_SUBMITS } from "../common/stream-limits.js";
import { ClientSession, DEFAULT_SESSION_LIMITS, type SessionLimits } from "./session.js";

// ClientSession takes its TaskService client from a function: these specs hand it fake Session
// calls, answer them message by message, and break them.

type RequestInit = MessageInitShape<typeof SessionRequestSchema>;

/** One Session call: what the client sent on it, and its responses for the spec to push or break. */
class FakeCall {
  readonly sent: RequestInit[] = [];
  readonly responses = new AsyncQueue<SessionResponse>();
  cancelled = false;
  halfClosed = false;

  send(request: RequestInit): boolean {
    this.sent.push(request);
    return true;
  }
  end(): void {
    this.halfClosed = true;
  }
  cancel(): void {
    this.cancelled = true;
    this.responses.fail(new ConnectError("Cancelled on client", Code.Canceled));
  }

  /** Answers with acceptances (ref → id) and outcomes. */
  answer(response: MessageInitShape<typeof SessionResponseSchema>): void {
    this.responses.push(create(SessionResponseSchema, response));
  }

  /** Refs and task names of every submission sent on this call, in order. */
  get submits(): { ref: number; task: string; key: string }[] {
    return this.sent.flatMap((r) => (r.submits ?? []).map((s) => ({ ref: s.ref!, task: s.task!.task!, key: s.task!.idempotencyKey ?? "" })));
  }

  get follows(): string[] {
    return this.sent.flatMap((r) => r.follow ?? []);
  }
}

function setup(limits: Partial<SessionLimits> = {}) {
  const calls: FakeCall[] = [];
  const tasks = { session: () => calls[calls.push(new FakeCall()) - 1] } as unknown as ServiceClient<typeof TaskService>;
  const session = new ClientSession(() => tasks, { ...DEFAULT_SESSION_LIMITS, ...limits });
  return { session, calls };
}

/** Lets queued microtasks (the batched send, responses being read) run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

type Settled<T> = { value: T } | { err: unknown };
function settled<T>(promise: Promise<T>): Promise<Settled<T>> & { now?: Settled<T> } {
  const p: Promise<Settled<T>> & { now?: Settled<T> } = promise.then(
    (value) => (p.now = { value }),
    (err: unknown) => (p.now = { err }),
  );
  return p;
}
function failure(outcome: Settled<unknown> | undefined): ConnectError {
  if (outcome === undefined || !("err" in outcome)) return expect.fail(`expected a failure, got ${JSON.stringify(outcome)}`);
  expect(outcome.err).toBeInstanceOf(ConnectError);
  return outcome.err as ConnectError;
}

const submit = (session: ClientSession, task: string, options: { key?: string; follow?: boolean; argsJson?: string } = {}) =>
  session.submit({ task, argsJson: options.argsJson ?? "{}", idempotencyKey: options.key ?? "" }, options.follow ?? false);

afterEach(() => {
  vi.useRealTimers();
});

describe("ClientSession submissions", () => {
  it("sends what is submitted in one turn in one message, and resolves each with its acceptance", async () => {
    const { session, calls } = setup();
    const a = submit(session, "a");
    const b = submit(session, "b", { follow: true });
    await turn();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.sent).toHaveLength(1);
    expect(calls[0]!.submits.map((s) => [s.ref, s.task])).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
    calls[0]!.answer({ accepted: [{ ref: 2, id: "id-b" }, { ref: 1, id: "id-a", deduplicated: true }] });
    expect((await a).accepted).toMatchObject({ id: "id-a", deduplicated: true });
    const followed = await b;
    expect(followed.accepted.id).toBe("id-b");
    expect((await a).outcome).toBeUndefined();
    // A followed submission's outcome is pushed when it is final.
    calls[0]!.answer({ outcomes: [{ id: "id-b", state: TaskState.SUCCEEDED, resultJson: "42" }] });
    await turn();
    expect(followed.outcome!.outcome).toMatchObject({ id: "id-b", resultJson: "42" });
    expect(await followed.outcome!.wait()).toBe(followed.outcome!.outcome);
    session.close();
  });

  it("makes a followed submission's promise only when it is waited for: a failure nobody waits for is no unhandled rejection", async () => {
    // Vitest fails a run on an unhandled rejection, so the close below would fail this test if the
    // outcome of the unwaited submission were a promise already.
    const { session, calls } = setup();
    const submitted = [submit(session, "ignored", { follow: true }), submit(session, "waited", { follow: true })];
    await turn();
    calls[0]!.answer({ accepted: [{ ref: 1, id: "id-1" }, { ref: 2, id: "id-2" }] });
    const [ignored, waited] = await Promise.all(submitted);
    const waiting = settled(waited!.outcome!.wait());
    expect(waited!.outcome!.wait()).toBe(waited!.outcome!.wait());
    session.close();
    await turn();
    expect(failure(waiting.now)).toMatchObject({ code: Code.Canceled });
    // Asked after the failure, it still answers it.
    expect(failure(await settled(ignored!.outcome!.wait()))).toMatchObject({ code: Code.Canceled });
    expect(ignored!.outcome!.outcome).toBeUndefined();
  });

  it("rejects a refused submission with the control plane's code and message", async () => {
    const { session, calls } = setup();
    const refused = settled(submit(session, ""));
    await turn();
    calls[0]!.answer({ accepted: [{ ref: 1, error: { code: Code.InvalidArgument, message: "the task name is empty" } }] });
    expect(failure(await refused)).toMatchObject({ code: Code.InvalidArgument, rawMessage: "the task name is empty" });
    session.close();
  });

  it("cuts messages at maxMessageBytes and holds back what is beyond maxUnaccepted until acceptances come", async () => {
    const { session, calls } = setup({ maxMessageBytes: 100, maxUnaccepted: 3 });
    const all = ["a", "b", "c", "d", "e"].map((t) => submit(session, t, { argsJson: JSON.stringify("x".repeat(58)) }));
    await turn();
    const call = calls[0]!;
    expect(call.sent.map((m) => m.submits!.map((s) => s.task!.task))).toEqual([["a"], ["b"], ["c"]]);
    call.answer({ accepted: [{ ref: 1, id: "1" }] });
    await turn();
    expect(call.submits.map((s) => s.task)).toEqual(["a", "b", "c", "d"]);
    call.answer({ accepted: [2, 3, 4].map((ref) => ({ ref, id: `${ref}` })) });
    await turn();
    call.answer({ accepted: [{ ref: 5, id: "5" }] });
    expect((await Promise.all(all)).map((s) => s.accepted.id)).toEqual(["1", "2", "3", "4", "5"]);
    session.close();
  });
});

describe("ClientSession message limits", () => {
  it("never puts more than MAX_SESSION_SUBMITS submissions or MAX_SESSION_FOLLOWS follows in one message, whatever maxUnaccepted says", async () => {
    const { session, calls } = setup({ maxUnaccepted: 3 * MAX_SESSION_SUBMITS });
    const pending = Array.from({ length: MAX_SESSION_SUBMITS + 5 }, (_, i) => settled(submit(session, `t${i}`)));
    const follows = Array.from({ length: MAX_SESSION_FOLLOWS + 7 }, (_, i) => settled(session.follow(`id-${i}`)));
    await turn();
    const sent = calls[0]!.sent;
    expect(sent.map((m) => m.submits?.length ?? 0).filter((n) => n > 0)).toEqual([MAX_SESSION_SUBMITS, 5]);
    expect(sent.map((m) => m.follow?.length ?? 0).filter((n) => n > 0)).toEqual([MAX_SESSION_FOLLOWS, 7]);
    session.close();
    await Promise.all([...pending, ...follows]);
  });
});

describe("ClientSession follows", () => {
  it("resolves a followed task's outcome; callers of one id share one follow", async () => {
    const { session, calls } = setup();
    const first = session.follow("x");
    const second = session.follow("x");
    await turn();
    expect(calls[0]!.follows).toEqual(["x"]);
    calls[0]!.answer({ outcomes: [{ id: "x", state: TaskState.FAILED }] });
    expect((await first).state).toBe(TaskState.FAILED);
    expect(await second).toBe(await first);
    session.close();
  });

  it("keeps following for the callers left when one gives up", async () => {
    const { session, calls } = setup();
    const patient = session.follow("y");
    void settled(session.follow("y"));
    session.unfollow("y");
    await turn();
    calls[0]!.answer({ outcomes: [{ id: "y", state: TaskState.SUCCEEDED, resultJson: "1" }] });
    expect((await patient).resultJson).toBe("1");
    session.close();
  });

  it("rejects a follow the control plane cannot look up, and an id that cannot be one without asking", async () => {
    const { session, calls } = setup();
    const missing = settled(session.follow("nope"));
    await turn();
    calls[0]!.answer({ outcomes: [{ id: "nope", lookupError: { code: Code.NotFound, message: 'no task "nope"' } }] });
    expect(failure(await missing)).toMatchObject({ code: Code.NotFound, rawMessage: 'no task "nope"' });
    expect(failure(await settled(session.follow("")))).toMatchObject({ code: Code.InvalidArgument });
    expect(failure(await settled(session.follow("x".repeat(201))))).toMatchObject({ code: Code.InvalidArgument });
    session.close();
  });
});

describe("ClientSession when its stream breaks", () => {
  it("sends keyed submissions again on a new stream, fails unkeyed ones UNAVAILABLE, and follows again", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { session, calls } = setup();
    const keyed = settled(submit(session, "k", { key: "key-1" }));
    const unkeyed = settled(submit(session, "u"));
    const followed = settled(session.follow("f"));
    await turn();
    calls[0]!.responses.fail(new ConnectError("connection reset", Code.Unavailable));
    await turn();
    const refused = failure(unkeyed.now);
    expect(refused.code).toBe(Code.Unavailable);
    expect(refused.rawMessage).toBe(
      "the session broke before the control plane confirmed this submission (connection reset); it may or may not have been taken: submit with an idempotency key to retry safely",
    );
    expect(calls).toHaveLength(1); // it waits a moment first
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
    const again = calls[1]!;
    expect(again.follows).toEqual(["f"]);
    expect(again.submits.map((s) => [s.task, s.key])).toEqual([["k", "key-1"]]);
    again.answer({ accepted: [{ ref: again.submits[0]!.ref, id: "id-k" }], outcomes: [{ id: "f", state: TaskState.CANCELLED }] });
    await turn();
    expect(keyed.now).toMatchObject({ value: { accepted: { id: "id-k" } } });
    expect(followed.now).toMatchObject({ value: { id: "f", state: TaskState.CANCELLED } });
    session.close();
  });

  it("sends every submission again, keyed or not, when the stream was refused before doing anything (a standby, or no connection)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const broken: ConnectError[] = [];
    const calls: FakeCall[] = [];
    const tasks = { session: () => calls[calls.push(new FakeCall()) - 1] } as unknown as ServiceClient<typeof TaskService>;
    const session = new ClientSession(() => tasks, DEFAULT_SESSION_LIMITS, (err) => broken.push(err));
    const unkeyed = settled(submit(session, "u"));
    await turn();
    calls[0]!.responses.fail(new ConnectError("this control plane is a standby; the leader is at 10.0.0.5:50051 (dashboard http://10.0.0.5:8000), term 3", Code.Unavailable));
    await turn();
    expect(unkeyed.now).toBeUndefined(); // not failed: it was certainly not taken
    expect(broken.map((e) => e.rawMessage)).toEqual([expect.stringContaining("the leader is at 10.0.0.5:50051")]);
    await vi.advanceTimersByTimeAsync(100);
    const again = calls[1]!;
    expect(again.submits.map((s) => s.task)).toEqual(["u"]);
    again.answer({ accepted: [{ ref: again.submits[0]!.ref, id: "id-u" }] });
    await turn();
    expect(unkeyed.now).toMatchObject({ value: { accepted: { id: "id-u" } } });
    session.close();
  });

  it("treats the control plane ending the stream like a break", async () => {
    const { session, calls } = setup();
    const unkeyed = settled(submit(session, "u"));
    await turn();
    calls[0]!.responses.close();
    await turn();
    expect(failure(unkeyed.now).rawMessage).toContain("(the control plane ended the session)");
    session.close();
  });

  it("fails everything at once when the control plane refuses the token, without reopening", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { session, calls } = setup();
    const keyed = settled(submit(session, "k", { key: "key-1" }));
    const followed = settled(session.follow("f"));
    await turn();
    calls[0]!.responses.fail(new ConnectError("missing or wrong token", Code.Unauthenticated));
    await turn();
    for (const outcome of [keyed.now, followed.now]) expect(failure(outcome)).toMatchObject({ code: Code.Unauthenticated });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(1);
  });

  it("gives up after 10 reopens in a row without an answer, failing what waits with the last error", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { session, calls } = setup();
    const keyed = settled(submit(session, "k", { key: "key-1" }));
    const followed = settled(session.follow("f"));
    await turn();
    const waits: number[] = [];
    for (let n = 1; keyed.now === undefined; n++) {
      calls[n - 1]!.responses.fail(new ConnectError(`refused #${n}`, Code.Unavailable));
      await turn();
      if (keyed.now !== undefined) break;
      // The next stream opens after a backoff that doubles from 100 ms up to 2 s.
      const before = calls.length;
      let waited = 0;
      while (calls.length === before) {
        await vi.advanceTimersByTimeAsync(50);
        waited += 50;
      }
      waits.push(waited);
    }
    // Today exactly 100, 200, 400, 800, 1600, then 2000 ms; a jittered backoff would stay inside these bounds.
    expect(waits).toHaveLength(10);
    expect(waits[0]).toBeLessThanOrEqual(100);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2000);
    expect(waits.at(-1)).toBeGreaterThanOrEqual(1000);
    expect(calls).toHaveLength(11);
    for (const outcome of [keyed.now, followed.now]) expect(failure(outcome)).toMatchObject({ code: Code.Unavailable, rawMessage: "refused #11" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(11);
    // Giving up is not the end of the session: the next use opens a stream again.
    void settled(submit(session, "later"));
    await turn();
    expect(calls).toHaveLength(12);
    session.close();
  });

  it("counts reopens only while nothing comes back: an answer starts the count again", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { session, calls } = setup();
    const followed = settled(session.follow("f"));
    await turn();
    const breakAndReopen = async () => {
      const before = calls.length;
      calls[before - 1]!.responses.fail(new ConnectError("reset", Code.Unavailable));
      await vi.advanceTimersByTimeAsync(2000);
      expect(calls).toHaveLength(before + 1);
    };
    for (let i = 0; i < 9; i++) await breakAndReopen();
    calls.at(-1)!.answer({}); // the control plane answered on this stream
    await turn();
    for (let i = 0; i < 9; i++) await breakAndReopen();
    expect(followed.now).toBeUndefined();
    session.close();
  });
});

describe("ClientSession idle close and close()", () => {
  it("cancels the stream (not a half-close) once nothing waits for idleCloseMs, and opens a new one on the next use", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { session, calls } = setup({ idleCloseMs: 500 });
    const a = submit(session, "a");
    await turn();
    calls[0]!.answer({ accepted: [{ ref: 1, id: "id-a" }] });
    await a;
    await vi.advanceTimersByTimeAsync(499);
    expect(calls[0]!.cancelled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls[0]).toMatchObject({ cancelled: true, halfClosed: false });
    void settled(submit(session, "b"));
    await turn();
    expect(calls).toHaveLength(2);
    session.close();
  });

  it("stays open while a followed task is waited for", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { session, calls } = setup({ idleCloseMs: 500 });
    const a = submit(session, "a", { follow: true });
    await turn();
    calls[0]!.answer({ accepted: [{ ref: 1, id: "id-a" }] });
    const { outcome } = await a;
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls[0]!.cancelled).toBe(false);
    calls[0]!.answer({ outcomes: [{ id: "id-a", state: TaskState.SUCCEEDED, resultJson: "1" }] });
    await outcome!.wait();
    await vi.advanceTimersByTimeAsync(500);
    expect(calls[0]!.cancelled).toBe(true);
  });

  it("close() fails what is pending with CANCELED, ends the stream, and refuses later calls", async () => {
    const { session, calls } = setup();
    const pending = settled(submit(session, "a"));
    const followed = settled(session.follow("f"));
    await turn();
    session.close();
    await turn();
    expect(calls[0]!.cancelled).toBe(true);
    for (const outcome of [pending.now, followed.now]) expect(failure(outcome)).toMatchObject({ code: Code.Canceled });
    expect(failure(await settled(submit(session, "b")))).toMatchObject({ code: Code.Canceled, rawMessage: "the client is closed" });
    expect(failure(await settled(session.follow("g")))).toMatchObject({ code: Code.Canceled });
    expect(calls).toHaveLength(1);
  });
});
