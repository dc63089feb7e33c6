import {
  type DescMessage,
  type DescMethod,
  type DescMethodBiDiStreaming,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { createSecureContext, rootCertificates } from "node:tls";
import { parseServerAddress, type ServerAddress } from "./address.js";
import { AUTH_HEADER, bearer, validateToken } from "./auth.js";
import { deserializerFor, messageFor, methodPath, serializerFor } from "./grpc-definition.js";

/** Per-call options. */
export interface CallOptions {
  /** Cancels the call (it then fails with CANCELED). */
  signal?: AbortSignal;
  /** Fails the call with DEADLINE_EXCEEDED after this long. */
  timeoutMs?: number;
}

/** A bidirectional stream: send requests, iterate responses. */
export interface BidiCall<I extends DescMessage, O extends DescMessage> {
  /** Queues a request; false means the transport buffer is full (wait for responses or drain). */
  send(request: MessageInitShape<I>): boolean;
  /** Half-closes: no more requests. */
  end(): void;
  /** Ends the call at once. */
  cancel(): void;
  readonly responses: AsyncIterable<MessageShape<O>>;
}

type ClientMethod<M extends DescMethod> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
      : M extends DescMethodBiDiStreaming<infer I, infer O>
        ? (options?: CallOptions) => BidiCall<I, O>
        : never;

/** A typed client for one service, built from its protoc-gen-es descriptor. */
export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: ClientMethod<S["method"][K]>;
};

/** How a client, worker or `fw` checks (and authenticates to) a control plane serving TLS. */
export interface TlsClientOptions {
  /**
   * PEM certificates to trust besides Node's built-in public roots: the CA
   * that signed the control plane's certificate (--tls-ca), or that exact
   * certificate (trusting a certificate itself is allowed).
   */
  ca?: string | Buffer | undefined;
  /** PEM client certificate (chain), for a control plane started with --tls-client-ca. */
  cert?: string | Buffer | undefined;
  /** PEM private key of `cert`. */
  key?: string | Buffer | undefined;
  /** The name the certificate must carry when it is not the host dialled (e.g. an IP address through a tunnel). */
  serverName?: string | undefined;
}

/** Options for {@link GrpcConnection}. */
export interface GrpcConnectionOptions {
  /** The control plane's gRPC address: host:port (plaintext), or grpcs://host:port (TLS). */
  address: string;
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string | undefined;
  /** Certificates for grpcs:// addresses. */
  tls?: TlsClientOptions | undefined;
}

/**
 * One HTTP/2 connection (grpc-js channel) to the control plane, and typed
 * clients for its services. Errors from calls are ConnectErrors carrying the
 * gRPC status code, so library users handle one error type.
 */
/**
 * Parses a control plane's address and checks it against the TLS options:
 * certificates with a plaintext address is a mistake, refused (INVALID_ARGUMENT)
 * rather than sending a token in clear text. What {@link GrpcConnection} does
 * first; callers that connect lazily call it up front to fail early.
 */
export function checkedAddress(text: string, tls: TlsClientOptions | undefined): ServerAddress {
  const address = parseServerAddress(text);
  if (!address.tls && (tls?.ca !== undefined || tls?.cert !== undefined)) {
    throw new ConnectError(
      `the control plane address ${address.text} is plaintext, but TLS certificates were given (--tls-ca/--tls-cert): ` +
        `write grpcs://${address.target} if it serves TLS; a token is never sent in clear text when TLS was asked for`,
      Code.InvalidArgument,
    );
  }
  return address;
}

export class GrpcConnection {
  readonly address: string;
  private readonly client: grpc.Client;
  private readonly token: string | undefined;

  constructor(options: GrpcConnectionOptions) {
    this.address = options.address;
    this.token = options.token === undefined ? undefined : validateToken(options.token, "the token");
    const address = checkedAddress(options.address, options.tls);
    const tls = options.tls;
    this.client = new grpc.Client(address.target, address.tls ? channelCredentials(tls ?? {}) : grpc.credentials.createInsecure(), {
      ...(tls?.serverName ? { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName } : {}),
      // The control plane cuts its stream messages at a few MiB; a single task's
      // args or result can still be as large as its --max-payload allows.
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
      "grpc.enable_retries": 0,
      // A connection of its own: grpc-js otherwise shares one subchannel per address across clients, and a
      // new Client made after the control plane restarted would inherit the old one's reconnect backoff
      // and fail at once with "No connection established".
      "grpc.use_local_subchannel_pool": 1,
      // Reconnect promptly after the control plane restarts.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2000,
    });
  }

  /** A typed client for one service over this connection. */
  service<S extends DescService>(service: S): ServiceClient<S> {
    const methods: Record<string, unknown> = {};
    for (const method of service.methods) methods[method.localName] = this.method(method);
    return methods as ServiceClient<S>;
  }

  /** Closes the connection; calls in progress fail with CANCELED or UNAVAILABLE. */
  close(): void {
    this.client.close();
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token) metadata.set(AUTH_HEADER, bearer(this.token));
    return metadata;
  }

  private method(method: DescMethod): unknown {
    const path = methodPath(method);
    const serialize = serializerFor(method.input) as (value: unknown) => Buffer;
    const deserialize = deserializerFor(method.output);
    const toMessage = messageFor(method.input) as (request: unknown) => unknown;
    const callOptions = (options?: CallOptions): grpc.CallOptions =>
      options?.timeoutMs !== undefined ? { deadline: Date.now() + options.timeoutMs } : {};

    switch (method.methodKind) {
      case "unary":
        return (request: unknown, options?: CallOptions) =>
          new Promise((resolve, reject) => {
            const call = this.client.makeUnaryRequest(
              path, serialize, deserialize, toMessage(request), this.metadata(), callOptions(options),
              (err, response) => (err ? reject(connectErrorFrom(err)) : resolve(response)),
            );
            cancelOnAbort(options?.signal, () => call.cancel());
          });
      case "server_streaming":
        return (request: unknown, options?: CallOptions) => {
          const call = this.client.makeServerStreamRequest(
            path, serialize, deserialize, toMessage(request), this.metadata(), callOptions(options),
          );
          cancelOnAbort(options?.signal, () => call.cancel());
          return translateErrors(call as AsyncIterable<unknown>);
        };
      case "bidi_streaming":
        return (options?: CallOptions): BidiCall<DescMessage, DescMessage> => {
          const call = this.client.makeBidiStreamRequest(path, serialize, deserialize, this.metadata(), callOptions(options));
          cancelOnAbort(options?.signal, () => call.cancel());
          return {
            send: (request) => call.write(toMessage(request)),
            end: () => call.end(),
            cancel: () => call.cancel(),
            responses: translateErrors(call as AsyncIterable<MessageShape<DescMessage>>),
          };
        };
      default:
        return () => {
          throw new ConnectError(`${path}: client-streaming calls are not used by fastworker`, Code.Unimplemented);
        };
    }
  }
}

/**
 * TLS credentials: Node's public roots plus `ca` (or Node's default store
 * without one), and a client certificate when given. A partial chain may be
 * trusted, so `ca` can name an intermediate or the control plane's own
 * certificate.
 */
function channelCredentials(tls: TlsClientOptions): grpc.ChannelCredentials {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConnectError("a client certificate needs both its certificate and its key (--tls-cert and --tls-key)", Code.InvalidArgument);
  }
  let context;
  try {
    context = createSecureContext({
      ca: tls.ca === undefined ? undefined : [...rootCertificates, tls.ca.toString()],
      cert: tls.cert,
      key: tls.key,
      allowPartialTrustChain: true,
    });
  } catch (err) {
    throw new ConnectError(`the TLS certificates given cannot be used: ${(err as Error).message}`, Code.InvalidArgument);
  }
  return grpc.credentials.createFromSecureContext(context);
}

function cancelOnAbort(signal: AbortSignal | undefined, cancel: () => void): void {
  if (!signal) return;
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
}

async function* translateErrors<T>(stream: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* stream;
  } catch (err) {
    throw connectErrorFrom(err);
  }
}

/** Converts a grpc-js ServiceError (or anything thrown) to a ConnectError with the same code. */
export function connectErrorFrom(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code === "number" && e.code in Code) {
    return new ConnectError(e.details || e.message || "call failed", e.code as number as Code, undefined, undefined, err);
  }
  return ConnectError.from(err);
}
