import * as grpc from "@grpc/grpc-js";

/** A method handler of any kind, as grpc-js registers it. */
type HandleCall<Req, Res> = Parameters<typeof grpc.Server.prototype.register<Req, Res>>[1];

/** What a request's deserializer gives instead of throwing: the call is answered INVALID_ARGUMENT. */
class Undecodable {
  constructor(readonly details: string) {}
}

/**
 * A grpc-js server that answers a request it cannot decode with
 * INVALID_ARGUMENT, saying which method and why, for every service on it
 * (fastworker's, health, reflection). Plain grpc-js answers INTERNAL ("Error
 * deserializing request"), which reads as a bug in the control plane rather
 * than bad input from the caller.
 *
 * Each method's deserializer is wrapped to return an Undecodable marker
 * instead of throwing, and its handler to answer the marker: a unary call
 * through its callback, a server-streaming call with its status, a streaming
 * request (bidi, client streaming) as soon as the marker arrives, with no
 * more requests delivered to the handler.
 */
export class GuardedServer extends grpc.Server {
  override register<RequestType, ResponseType>(
    name: string,
    handler: HandleCall<RequestType, ResponseType>,
    serialize: grpc.serialize<ResponseType>,
    deserialize: grpc.deserialize<RequestType>,
    type: string,
  ): boolean {
    const decode = (bytes: Buffer): RequestType => {
      try {
        return deserialize(bytes);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return new Undecodable(`the request to ${name} is not a valid message: ${reason}`) as RequestType;
      }
    };
    const guarded = guard(handler as unknown as HandleCall<unknown, unknown>, type) as unknown as HandleCall<RequestType, ResponseType>;
    return super.register(name, guarded, serialize, decode, type);
  }
}

function status(marker: Undecodable): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details: marker.details };
}

type AnyHandler = (call: never, callback?: never) => void;

function guard(handler: HandleCall<unknown, unknown>, type: string): HandleCall<unknown, unknown> {
  const h = handler as unknown as AnyHandler;
  switch (type) {
    case "unary":
      return ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (call.request instanceof Undecodable) callback(status(call.request) as grpc.ServiceError);
        else h(call as never, callback as never);
      }) as grpc.handleUnaryCall<unknown, unknown>;
    case "serverStream":
      return ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        if (call.request instanceof Undecodable) call.emit("error", status(call.request));
        else h(call as never);
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    default:
      return ((call: grpc.ServerDuplexStream<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
        guardRequests(call, callback);
        h(call as never, callback as never);
      }) as grpc.handleBidiStreamingCall<unknown, unknown>;
  }
}

/**
 * Filters a streaming call's "data" listeners: an Undecodable request ends
 * the call with INVALID_ARGUMENT (through its callback for client
 * streaming), and nothing after it reaches the handler.
 */
function guardRequests(call: grpc.ServerDuplexStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown> | undefined): void {
  let refused = false;
  const refuse = (marker: Undecodable): void => {
    if (refused) return;
    refused = true;
    if (callback !== undefined) callback(status(marker) as grpc.ServiceError);
    else call.emit("error", status(marker));
  };
  const on = call.on.bind(call);
  const wrap = (event: string | symbol, listener: (...args: unknown[]) => void): ((...args: unknown[]) => void) =>
    event !== "data"
      ? listener
      : (message: unknown) => {
          if (refused) return;
          if (message instanceof Undecodable) refuse(message);
          else listener(message);
        };
  call.on = ((event: string | symbol, listener: (...args: unknown[]) => void) => on(event, wrap(event, listener))) as typeof call.on;
  call.addListener = call.on;
}
