import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AsyncQueue } from "../common/async-queue.js";
import { fixedServer, type ServerLocator } from "../common/discovery/server-locator.js";
import { durationFromMs } from "../common/time.js";
import {
  AttemptResultSchema,
  WorkerService,
  type DispatchRequest,
  type DispatchResponse,
  type DispatchResponseSchema,
  type ReportResultsRequest,
} from "../gen/fastworker/v1/worker_service_pb.js";
import { captureLogs, type CapturedLogs } from "../test/helpers/captured-logs.js";
import { serveOnLoopback, type LoopbackGrpcServer } from "../test/helpers/loopback-grpc.js";
import { WorkerConnection } from "./connection.js";

// WorkerConnection dials its control plane itself (a grpc-js channel per address), so these specs
// give it a fake control plane: WorkerService served in-process on loopback through the real adapter.

type DispatchInit = MessageInitShape<typeof DispatchResponseSchema>;

/** One Dispatch call the worker opened; the spec sends on it, ends it, or sees it cancelled. */
interface OpenDispatch {
  request: DispatchRequest;
  out: AsyncQueue<DispatchInit>;
  ctx: HandlerContext;
}

/** A control plane that registers workers, and lets the spec drive their dispatch streams. */
class FakeControlPlane {
  readonly registrations: string[] = [];
  readonly dispatches: OpenDispatch[] = [];
  readonly reports: ReportResultsRequest[] = [];
  readonly known = new Set<string>();
  /** Errors the next registrations fail with, in order. */
  registerFailures: ConnectError[] = [];
  leaseTimeoutMs = 10_000;
  private server: LoopbackGrpcServer | undefined;
  private taken = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly prefix: string) {}

  get address(): string {
    return this.server!.address;
  }

  async start(): Promise<this> {
    this.server = await serveOnLoopback(WorkerService, {
      registerWorker: (request) => {
        const failure = this.registerFailures.shift();
        if (failure !== undefined) throw failure;
        const workerId = `${this.prefix}${this.registrations.length + 1}`;
        this.registrations.push(request.name);
        this.known.add(workerId);
        return { workerId, leaseTimeout: durationFromMs(this.leaseTimeoutMs), maxPayloadBytes: 4096n, serverVersion: "fake" };
      },
      dispatch: (request, ctx) => {
        if (!this.known.has(request.workerId)) throw new ConnectError(`no worker session ${request.workerId}`, Code.NotFound);
        const out = new AsyncQueue<DispatchInit>();
        this.dispatches.push({ request, out, ctx });
        this.wake?.();
        return out;
      },
      reportResults: (requests) => this.answerReports(requests),
    });
    return this;
  }

  private async *answerReports(requests: AsyncIterable<ReportResultsRequest>) {
    for await (const request of requests) {
      this.reports.push(request);
      yield { accepted: request.results.length };
    }
  }

  /** The next dispatch stream the worker opens (or opened since the last one taken). */
  async nextDispatch(): Promise<OpenDispatch> {
    while (this.dispatches.length <= this.taken) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.dispatches[this.taken++]!;
  }

  close(): void {
    this.server?.close();
  }
}

interface Running {
  connection: WorkerConnection;
  logs: CapturedLogs;
  attached: string[];
  messages: { message: DispatchResponse; session: string }[];
  stop: AbortController;
  done: Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function controlPlane(prefix = "w"): Promise<FakeControlPlane> {
  const p = await new FakeControlPlane(prefix).start();
  cleanups.push(() => p.close());
  return p;
}

function connect(
  server: ServerLocator,
  options: { initialBackoffMs?: number; maxBackoffMs?: number; capacity?: number; held?: { taskId: string; attempt: number }[] } = {},
): Running {
  const logs = captureLogs();
  const attached: string[] = [];
  const messages: Running["messages"] = [];
  const connection = new WorkerConnection({
    server,
    registration: { name: "spec-worker", concurrency: 2 },
    onMessage: (message, session) => messages.push({ message, session }),
    onAttached: (session) => attached.push(session),
    capacity: () => options.capacity ?? 2,
    held: () => (options.held ?? []).map((ref) => ({ $typeName: "fastworker.v1.AttemptRef" as const, ...ref })),
    logger: logs.logger,
    initialBackoffMs: options.initialBackoffMs ?? 20,
    maxBackoffMs: options.maxBackoffMs ?? 40,
  });
  const stop = new AbortController();
  const done = connection.run(stop.signal);
  cleanups.push(async () => {
    stop.abort();
    await done;
    await connection.close();
  });
  return { connection, logs, attached, messages, stop, done };
}

/** Resolves once `check` holds, checking after every event-loop turn; bounded by the spec's timeout. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("WorkerConnection", () => {
  it("registers, opens one dispatch stream under its session with its free capacity, and passes the messages on", async () => {
    const cp = await controlPlane();
    const worker = connect(fixedServer(cp.address), { capacity: 1, held: [{ taskId: "t1", attempt: 2 }] });
    const stream = await cp.nextDispatch();
    // It also says which attempts of the session it still holds (after a control-plane restart the others are re-queued).
    expect(stream.request).toMatchObject({ workerId: "w1", capacity: 1, held: { attempts: [{ taskId: "t1", attempt: 2 }] } });
    expect(cp.registrations).toEqual(["spec-worker"]);

    stream.out.push({ ping: 1 }); // the control plane's first message says the stream is accepted
    stream.out.push({ ping: 2, assignments: [{ taskId: "t1", attempt: 1, task: "work" }] });
    await until(() => worker.messages.length === 2);
    expect(worker.attached).toEqual(["w1"]);
    expect(worker.messages.map((m) => [m.session, m.message.ping, m.message.assignments.map((a) => a.taskId)])).toEqual([
      ["w1", 1, []],
      ["w1", 2, ["t1"]],
    ]);
    expect(worker.connection).toMatchObject({ session: "w1", attached: true, lastPing: 2, maxPayloadBytes: 4096, address: cp.address });
  });

  it("opens the stream again under the same session when the control plane ends it", async () => {
    const cp = await controlPlane();
    const worker = connect(fixedServer(cp.address));
    const first = await cp.nextDispatch();
    first.out.push({ ping: 1 });
    await until(() => worker.attached.length === 1);
    first.out.close();
    const second = await cp.nextDispatch();
    expect(second.request.workerId).toBe("w1");
    expect(cp.registrations).toHaveLength(1);
    expect((await worker.logs.waitFor(/^lost the dispatch stream/)).msg).toMatch(
      new RegExp(`^lost the dispatch stream at ${cp.address} \\(the control plane ended the dispatch stream\\); retrying in \\d\\.\\ds \\(attempt 1\\)$`),
    );
  });

  it("registers again when the control plane no longer knows its session (NOT_FOUND)", async () => {
    const cp = await controlPlane();
    const worker = connect(fixedServer(cp.address));
    const first = await cp.nextDispatch();
    first.out.push({ ping: 1 });
    await until(() => worker.attached.length === 1);
    cp.known.clear(); // e.g. the control plane restarted, or gave the worker up
    first.out.close();
    const second = await cp.nextDispatch();
    expect(second.request.workerId).toBe("w2");
    expect(cp.registrations).toHaveLength(2);
    second.out.push({ ping: 1 });
    await until(() => worker.attached.length === 2);
    expect(worker.attached).toEqual(["w1", "w2"]);
    expect(worker.connection.session).toBe("w2");
  });

  it("backs off exponentially with jitter up to its maximum while it cannot register, and starts over once a stream delivered", async () => {
    const cp = await controlPlane();
    cp.registerFailures = [Code.Unavailable, Code.Unavailable, Code.Internal, Code.Unavailable].map((code) => new ConnectError("not now", code));
    // The wait is between half and all of the backoff (jitter): here always half.
    const random = vi.spyOn(Math, "random").mockReturnValue(0);
    const worker = connect(fixedServer(cp.address), { initialBackoffMs: 200, maxBackoffMs: 800 });
    const stream = await cp.nextDispatch();
    const retries = () => worker.logs.lines.filter((l) => / retrying in /.test(l.msg)).map((l) => / retrying in (\S+) \(attempt (\d+)\)$/.exec(l.msg)!.slice(1).join(" #"));
    expect(retries()).toEqual(["0.1s #1", "0.2s #2", "0.4s #3", "0.4s #4"]);
    expect(worker.logs.lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([
      `cannot reach the control plane at ${cp.address} (not now); retrying in 0.1s (attempt 1)`,
    ]); // later ones at debug, until every 10th

    stream.out.push({ ping: 1 });
    await until(() => worker.attached.length === 1);
    random.mockReturnValue(1); // now always all of it
    stream.out.close();
    await cp.nextDispatch();
    expect(retries().at(-1)).toBe("0.2s #1");
  });

  it("reconnects when the dispatch stream is silent for a lease timeout", async () => {
    const cp = await controlPlane();
    cp.leaseTimeoutMs = 300;
    const worker = connect(fixedServer(cp.address));
    const first = await cp.nextDispatch();
    first.out.push({ ping: 1 });
    const second = await cp.nextDispatch(); // nothing more was sent on the first
    expect(second.request.workerId).toBe("w1");
    await worker.logs.waitFor(/^no message on the dispatch stream for 0\.3s; reconnecting$/);
    expect(first.ctx.signal.aborted).toBe(true);
  });

  it("says so when the control plane refuses its token, and keeps trying", async () => {
    const cp = await controlPlane();
    cp.registerFailures = [new ConnectError("missing or wrong token", Code.Unauthenticated)];
    const worker = connect(fixedServer(cp.address));
    await cp.nextDispatch();
    expect(await worker.logs.waitFor(/refused the token/)).toMatchObject({ level: "error", msg: `the control plane at ${cp.address} refused the token: missing or wrong token` });
  });

  it("stops at once when stopped while waiting to retry", async () => {
    const cp = await controlPlane();
    cp.registerFailures = [new ConnectError("down", Code.Unavailable)];
    const worker = connect(fixedServer(cp.address), { initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    await worker.logs.waitFor(/retrying in/);
    worker.stop.abort();
    await worker.done;
    expect(worker.connection.attached).toBe(false);
  });

  it("sends reports on one stream per session, each answered; before connecting it refuses with UNAVAILABLE", async () => {
    const cp = await controlPlane();
    const early = new WorkerConnection({
      server: fixedServer(cp.address),
      registration: { name: "never-run" },
      onMessage: () => {},
      onAttached: () => {},
      capacity: () => 1,
      held: () => [],
      logger: captureLogs().logger,
    });
    await expect(early.report("w1", { acks: [], results: [], progress: [], released: [], heartbeat: undefined, logs: [] })).rejects.toMatchObject({
      code: Code.Unavailable,
      rawMessage: "not connected to a control plane yet",
    });

    const worker = connect(fixedServer(cp.address));
    (await cp.nextDispatch()).out.push({ ping: 1 });
    await until(() => worker.attached.length === 1);
    const result = create(AttemptResultSchema, { taskId: "t1", attempt: 1, resultJson: "1" });
    const answers = await Promise.all([1, 2].map(() => worker.connection.report("w1", { acks: [], results: [result], progress: [], released: [], heartbeat: undefined, logs: [] })));
    expect(answers.map((a) => a.accepted)).toEqual([1, 1]);
    expect(cp.reports.map((r) => r.workerId)).toEqual(["w1", "w1"]);
  });

  it("forget(session) drops the current session: its stream ends and the next connect registers again", async () => {
    const cp = await controlPlane();
    const worker = connect(fixedServer(cp.address));
    const first = await cp.nextDispatch();
    first.out.push({ ping: 1 });
    await until(() => worker.attached.length === 1);
    worker.connection.forget("w1");
    const second = await cp.nextDispatch();
    expect(second.request.workerId).toBe("w2");
    expect(first.ctx.signal.aborted).toBe(true);
  });

  it("asks its locator for the address before every connect, and follows the control plane to a new one", async () => {
    const [a, b] = [await controlPlane("a"), await controlPlane("b")];
    let current = a.address;
    const resolved: string[] = [];
    const locator: ServerLocator = {
      resolve: async () => {
        resolved.push(current);
        return current;
      },
      close: async () => {},
    };
    const worker = connect(locator);
    const onA = await a.nextDispatch();
    onA.out.push({ ping: 1 });
    await until(() => worker.attached.length === 1);
    current = b.address; // the control plane moved (a beacon from elsewhere)
    onA.out.close();
    const onB = await b.nextDispatch();
    // B never heard of session a1: NOT_FOUND, then a registration there.
    expect(onB.request.workerId).toBe("b1");
    onB.out.push({ ping: 1 });
    await until(() => worker.attached.length === 2);
    expect(worker.attached).toEqual(["a1", "b1"]);
    expect(worker.connection.address).toBe(b.address);
    expect(resolved.slice(0, 2)).toEqual([a.address, b.address]);
  });
});
