import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncQueue } from "../../common/async-queue.js";
import { GrpcConnection } from "../../common/transport/grpc-client.js";
import { AdminService, type WatchStatsResponse } from "../../gen/fastworker/v1/admin_service_pb.js";
import { TaskService } from "../../gen/fastworker/v1/task_service_pb.js";
import { captureLogs } from "../../test/helpers/captured-logs.js";
import { serveOnLoopback, type LoopbackGrpcServer } from "../../test/helpers/loopback-grpc.js";

// addServiceImpl mounts connect-es ServiceImpls on grpc-js: these specs serve one in-process on
// loopback and call it with the project's own gRPC client, one behaviour at a time.

let server: LoopbackGrpcServer | undefined;
let connection: GrpcConnection | undefined;
afterEach(() => {
  connection?.close();
  server?.close();
  connection = server = undefined;
});

function dial(address: string, token?: string): GrpcConnection {
  connection = new GrpcConnection({ address, token });
  return connection;
}

/** Resolves when the signal aborts (the handler's call is over). */
const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

async function errorOf(promise: Promise<unknown>): Promise<ConnectError> {
  const err = await promise.then(
    () => expect.fail("the call succeeded"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe("unary methods", () => {
  it("answer what the implementation returns (a plain init object becomes the message)", async () => {
    server = await serveOnLoopback(AdminService, { getStats: () => ({ stats: { running: 3n, version: "v-test" } }) });
    const { stats } = await dial(server.address).service(AdminService).getStats({});
    expect(stats).toMatchObject({ running: 3n, version: "v-test" });
  });

  it("give the implementation the request headers, the deadline and the method", async () => {
    let seen: HandlerContext | undefined;
    server = await serveOnLoopback(AdminService, {
      getStats: (_request, ctx) => {
        seen = ctx;
        return {};
      },
    });
    await dial(server.address, "s3cret-0123456789abcdef").service(AdminService).getStats({}, { timeoutMs: 5000 });
    expect(seen!.requestHeader.get("authorization")).toBe("Bearer s3cret-0123456789abcdef");
    expect(seen!.method.name).toBe("GetStats");
    expect(seen!.timeoutMs()).toBeGreaterThan(0);
    expect(seen!.timeoutMs()).toBeLessThanOrEqual(5000);
  });

  it("answer a ConnectError with its own code and message", async () => {
    server = await serveOnLoopback(AdminService, {
      getStats: () => {
        throw new ConnectError("the store is read-only now", Code.FailedPrecondition);
      },
    });
    const err = await errorOf(dial(server.address).service(AdminService).getStats({}));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe("the store is read-only now");
  });

  it("answer any other error INTERNAL without its details, and log it", async () => {
    const logs = captureLogs();
    server = await serveOnLoopback(
      AdminService,
      {
        getStats: async () => {
          throw new TypeError("secret internals at /srv/app.js:42");
        },
      },
      logs.logger,
    );
    const err = await errorOf(dial(server.address).service(AdminService).getStats({}));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error in the control plane; see its log");
    const logged = await logs.waitFor(/internal error in RPC handler/);
    expect(logged).toMatchObject({ level: "error", method: "/fastworker.v1.AdminService/GetStats", err: { message: "secret internals at /srv/app.js:42" } });
  });

  it("answer UNIMPLEMENTED for a method the implementation leaves out", async () => {
    server = await serveOnLoopback(AdminService, { getStats: () => ({}) });
    const err = await errorOf(dial(server.address).service(AdminService).listWorkers({}));
    expect(err.code).toBe(Code.Unimplemented);
  });
});

describe("server-streaming methods", () => {
  const stats = (running: number) => ({ stats: { running: BigInt(running) } });

  it("send every message the implementation yields, in order, then end the call", async () => {
    server = await serveOnLoopback(AdminService, {
      async *watchStats() {
        for (let i = 1; i <= 3; i++) yield stats(i);
      },
    });
    const messages = await collect(dial(server.address).service(AdminService).watchStats({}));
    expect(messages.map((m) => m.stats?.running)).toEqual([1n, 2n, 3n]);
  });

  it("end the call with the implementation's error, even before its first message", async () => {
    server = await serveOnLoopback(AdminService, {
      // eslint-disable-next-line require-yield
      async *watchStats() {
        throw new ConnectError("no such view", Code.InvalidArgument);
      },
    });
    const err = await errorOf(collect(dial(server.address).service(AdminService).watchStats({})));
    expect(err).toMatchObject({ code: Code.InvalidArgument, rawMessage: "no such view" });
  });

  it("deliver the messages sent before an error, then the error", async () => {
    server = await serveOnLoopback(AdminService, {
      async *watchStats() {
        yield stats(1);
        throw new ConnectError("gone", Code.Unavailable);
      },
    });
    const received: WatchStatsResponse[] = [];
    const err = await errorOf(
      (async () => {
        for await (const m of dial(server!.address).service(AdminService).watchStats({})) received.push(m);
      })(),
    );
    expect(received.map((m) => m.stats?.running)).toEqual([1n]);
    expect(err.code).toBe(Code.Unavailable);
  });

  it("abort the implementation's signal when the client cancels", async () => {
    let ctxSeen: HandlerContext | undefined;
    const open = new AsyncQueue<ReturnType<typeof stats>>();
    server = await serveOnLoopback(AdminService, {
      watchStats: (_request, ctx) => {
        ctxSeen = ctx;
        open.push(stats(1));
        return open;
      },
    });
    const cancel = new AbortController();
    const stream = dial(server.address).service(AdminService).watchStats({}, { signal: cancel.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.stats?.running).toBe(1n);
    cancel.abort();
    await aborted(ctxSeen!.signal);
    expect((await errorOf(iterator.next())).code).toBe(Code.Canceled);
  });

  it("do not stay stuck behind a reader that stopped reading once the output is closed", async () => {
    // 40 messages of 256 KiB fill the client's flow-control window and grpc-js's buffer: the pump waits.
    const output = new AsyncQueue<{ stats: { version: string } }>();
    let ctxSeen: HandlerContext | undefined;
    server = await serveOnLoopback(AdminService, {
      watchStats: (_request, ctx) => {
        ctxSeen = ctx;
        for (let i = 0; i < 40; i++) output.push({ stats: { version: "x".repeat(256 * 1024) } });
        return output;
      },
    });
    const cancel = new AbortController();
    const stream = dial(server.address).service(AdminService).watchStats({}, { signal: cancel.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false); // started; and then it reads no more
    // The implementation closes its output (its stream is over): the pump must finish, not wait for a drain that never comes.
    output.close();
    await aborted(ctxSeen!.signal);
    cancel.abort();
    await iterator.return?.();
  });
});

describe("bidirectional methods", () => {
  it("hand the requests to the implementation as they come, and end them when the client half-closes", async () => {
    server = await serveOnLoopback(TaskService, {
      async *session(requests) {
        for await (const request of requests) {
          yield { accepted: request.submits.map((s) => ({ ref: s.ref, id: `id-${s.task?.task}` })) };
        }
      },
    });
    const call = dial(server.address).service(TaskService).session();
    call.send({ submits: [{ ref: 1, task: { task: "a" } }] });
    call.send({ submits: [{ ref: 2, task: { task: "b" } }] });
    call.end();
    const responses = await collect(call.responses);
    expect(responses.flatMap((r) => r.accepted.map((a) => [a.ref, a.id]))).toEqual([
      [1, "id-a"],
      [2, "id-b"],
    ]);
  });

  it("send the implementation's status when it stops reading early and fails", async () => {
    server = await serveOnLoopback(TaskService, {
      async *session(requests) {
        for await (const request of requests) {
          yield { accepted: [{ ref: request.submits[0]!.ref, id: "first" }] };
          throw new ConnectError("one is enough", Code.ResourceExhausted);
        }
      },
    });
    const call = dial(server.address).service(TaskService).session();
    call.send({ submits: [{ ref: 7, task: { task: "a" } }] });
    const received: string[] = [];
    const err = await errorOf(
      (async () => {
        for await (const r of call.responses) received.push(...r.accepted.map((a) => a.id));
      })(),
    );
    expect(received).toEqual(["first"]);
    expect(err).toMatchObject({ code: Code.ResourceExhausted, rawMessage: "one is enough" });
  });
});
