import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type ContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { AsyncQueue } from "../../common/async-queue.js";
import { grpcServiceDefinition, messageFor, methodPath } from "../../common/transport/grpc-definition.js";
import type { Logger } from "../../common/logger.js";
import { resetIfUndelivered, STATUS_DELIVERY_MS } from "./stalled-call.js";

/** Per-call context values for handlers (`HandlerContext.values`), made from the call, like connect-node's option. */
export type CallContextValues = (call: { getPeer(): string; readonly metadata: grpc.Metadata }) => ContextValues;

/**
 * Mounts a connect-es ServiceImpl on a grpc-js server, so the same
 * implementation serves the gRPC port (grpc-js) and the HTTP port
 * (connect-node). Errors become gRPC statuses: a ConnectError keeps its code
 * and message; anything else is logged and answered INTERNAL without details.
 */
export function addServiceImpl<S extends DescService>(
  server: grpc.Server,
  service: S,
  impl: Partial<ServiceImpl<S>>,
  logger: Logger,
  contextValues?: CallContextValues,
): void {
  const definition = grpcServiceDefinition(service);
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (typeof fn !== "function") continue;
    handlers[method.name] = makeHandler(method, fn.bind(impl) as AnyImpl, logger, contextValues);
  }
  server.addService(definition, handlers);
}

type AnyImpl = (input: unknown, ctx: HandlerContext) => unknown;

/**
 * How long a server stream may wait for its peer to read anything (its
 * transport buffers full) before it is ended with RESOURCE_EXHAUSTED.
 * Streams whose messages come from a bounded queue are usually ended sooner,
 * at the queue's bound; this catches pull-based ones (WatchStats) too.
 */
const UNREAD_STALL_MS = 60_000;

/** What a stream's pump reports to the log: a stream ended at a limit, a stream reset because its peer does not read. */
interface StreamEnds {
  /** The method's name, for messages. */
  stream: string;
  onLimit(status: Partial<grpc.StatusObject>): void;
  onReset(status: Partial<grpc.StatusObject>): void;
}

function makeHandler(method: DescMethod, impl: AnyImpl, logger: Logger, contextValues: CallContextValues | undefined): grpc.UntypedHandleCall {
  const handlerContext = (m: DescMethod, call: AnyServerCall): ReturnType<typeof createHandlerContext> => contextFor(m, call, contextValues?.(call));
  const toStatus = (err: unknown): Partial<grpc.StatusObject> => statusFromError(err, method, logger);
  const toOutput = messageFor(method.output) as (value: unknown) => unknown;
  const ends: StreamEnds = {
    stream: method.name,
    onLimit: (status) => logger.warn({ method: methodPath(method) }, `ended a stream at a limit: ${status.details}`),
    onReset: (status) => logger.warn({ method: methodPath(method), code: status.code }, `reset a stream whose peer does not read it; its status was: ${status.details}`),
  };
  switch (method.methodKind) {
    case "unary":
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const ctx = handlerContext(method, call);
        Promise.resolve()
          .then(() => impl(call.request, ctx))
          .then(
            (response) => callback(null, toOutput(response)),
            (err: unknown) => callback(toStatus(err) as grpc.ServerErrorResponse),
          )
          .finally(() => ctx.abort());
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const ctx = handlerContext(method, call);
        void pump(toOutput, () => impl(call.request, ctx) as AsyncIterable<unknown>, call, ctx, toStatus, ends);
      };
    case "bidi_streaming":
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        const ctx = handlerContext(method, call);
        void pump(toOutput, () => impl(requestsOf(call), ctx) as AsyncIterable<unknown>, call, ctx, toStatus, ends);
      };
    case "client_streaming":
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const ctx = handlerContext(method, call);
        Promise.resolve()
          .then(() => impl(requestsOf(call), ctx))
          .then(
            (response) => callback(null, toOutput(response)),
            (err: unknown) => callback(toStatus(err) as grpc.ServerErrorResponse),
          )
          .finally(() => ctx.abort());
      };
  }
}

/**
 * Writes an implementation's output stream to a grpc-js call, honouring
 * backpressure. An implementation that throws (even before its first
 * message) ends the call with its status.
 */
async function pump(
  toOutput: (value: unknown) => unknown,
  produce: () => AsyncIterable<unknown>,
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  ctx: ReturnType<typeof createHandlerContext>,
  toStatus: (err: unknown) => Partial<grpc.StatusObject>,
  ends: StreamEnds,
): Promise<void> {
  try {
    const output = produce();
    const closed = (output as { closedSignal?: AbortSignal }).closedSignal;
    for await (const message of output) {
      if (ctx.signal.aborted) break;
      if (!call.write(toOutput(message)) && !(await drained(call, ctx.signal, closed, UNREAD_STALL_MS))) {
        throw new ConnectError(
          `the ${ends.stream} stream read nothing for ${UNREAD_STALL_MS / 1000}s while messages waited, so the control plane ended it; read a stream as it comes`,
          Code.ResourceExhausted,
        );
      }
    }
    if (!ctx.signal.aborted) call.end();
  } catch (err) {
    if (!ctx.signal.aborted) {
      const status = toStatus(err);
      if (status.code === grpc.status.RESOURCE_EXHAUSTED) ends.onLimit(status);
      call.emit("error", status);
      // A peer that stopped reading never gets the status (it waits behind unread messages): reset its stream.
      resetIfUndelivered(call, STATUS_DELIVERY_MS, () => ends.onReset(status));
    }
  } finally {
    ctx.abort();
  }
}

/** Requests read ahead of the handler before the call stops reading (backpressure). */
const READ_AHEAD = 4;

/**
 * The requests of a streaming call as an async iterable that does not own
 * the call: a handler that stops reading early (returns, throws) must not
 * destroy the call, or its status could never be sent. Read with
 * backpressure: once READ_AHEAD requests wait for the handler, the call is
 * paused (grpc-js then stops reading the HTTP/2 stream, and the peer's
 * flow-control window fills), and resumed when the handler catches up.
 */
function requestsOf(call: NodeJS.ReadableStream): AsyncQueue<unknown> {
  const requests = new AsyncQueue<unknown>({
    onTake: (waiting) => {
      if (waiting < READ_AHEAD && call.isPaused()) call.resume();
    },
  });
  call.on("data", (message: unknown) => {
    requests.push(message);
    if (requests.size >= READ_AHEAD) call.pause();
  });
  call.on("end", () => requests.close());
  call.on("close", () => requests.close()); // cancelled calls are destroyed without "end"
  // A status the transport ends the call with (e.g. INVALID_ARGUMENT for an undecodable request) keeps its code.
  call.on("error", (err: unknown) => requests.fail(connectErrorOf(err)));
  return requests;
}

/**
 * Waits until the call can take more, the call is aborted, or the output
 * closed (a stalled reader must not pin the pump): true. False when none of
 * that happened within `timeoutMs`: the peer reads nothing.
 */
function drained(call: NodeJS.EventEmitter, signal: AbortSignal, closed: AbortSignal | undefined, timeoutMs: number): Promise<boolean> {
  if (signal.aborted || closed?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      call.off("drain", onDrain);
      signal.removeEventListener("abort", onDrain);
      closed?.removeEventListener("abort", onDrain);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    call.once("drain", onDrain);
    signal.addEventListener("abort", onDrain);
    closed?.addEventListener("abort", onDrain);
  });
}

function connectErrorOf(err: unknown): unknown {
  const status = err as Partial<grpc.StatusObject>;
  if (err instanceof ConnectError || typeof status?.code !== "number" || !(status.code in Code)) return err;
  return new ConnectError(status.details ?? "the call failed", status.code as number as Code);
}

type AnyServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

function contextFor(method: DescMethod, call: AnyServerCall, contextValues: ContextValues | undefined): ReturnType<typeof createHandlerContext> {
  const header = new Headers();
  for (const [key, value] of Object.entries(call.metadata.getMap())) {
    if (typeof value === "string") header.set(key, value);
  }
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const ctx = createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: methodPath(method),
    requestHeader: header,
    timeoutMs: Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : undefined,
    contextValues,
  });
  (call as NodeJS.EventEmitter).once("cancelled", () => ctx.abort(new ConnectError("the client cancelled the call", Code.Canceled)));
  return ctx;
}

function statusFromError(err: unknown, method: DescMethod, logger: Logger): Partial<grpc.StatusObject> {
  if (err instanceof ConnectError) {
    return { code: err.code as number as grpc.status, details: err.rawMessage };
  }
  logger.error({ err, method: methodPath(method) }, "internal error in RPC handler");
  return { code: grpc.status.INTERNAL, details: "internal error in the control plane; see its log" };
}
