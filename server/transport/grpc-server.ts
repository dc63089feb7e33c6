import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { AUTH_HEADER } from "../../common/transport/auth.js";
import type { Logger } from "../../common/logger.js";
import { file_grpc_health_v1_health, Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import type { AccessControl } from "./access-control.js";
import { callerValues } from "./call-context.js";
import { addServiceImpl, type CallContextValues } from "./grpc-adapter.js";
import { GuardedServer } from "./guarded-server.js";
import { HealthStatuses } from "./health.js";
import { addReflection } from "./reflection.js";
import type { TlsFiles } from "./tls.js";

/**
 * The most calls open at once on one gRPC connection (HTTP/2
 * SETTINGS_MAX_CONCURRENT_STREAMS): a client or worker uses a handful (a
 * Session, a Dispatch and a report stream, a few unary calls); a peer
 * opening thousands of streams to hold memory is refused more. Clients queue
 * calls past it until one ends.
 */
export const MAX_STREAMS_PER_CONNECTION = 256;

/** A service and its one implementation, mounted on both ports. Make with {@link bind}. */
export interface ServiceBinding {
  readonly service: DescService;
  readonly impl: object;
}

/** Pairs a service with its implementation (type-checked here, erased in the binding). */
export function bind<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceBinding {
  return { service, impl };
}

/** Options for {@link startGrpcServer}. */
export interface GrpcServerOptions {
  host: string;
  port: number;
  services: readonly ServiceBinding[];
  /** Who may call what (every call is checked, health included: it is public in the table). */
  access: AccessControl;
  /** Serve TLS (and, with a client CA, require client certificates); plaintext without. */
  tls?: TlsFiles | undefined;
  /** The largest request message accepted, in bytes. */
  maxReceiveBytes: number;
  logger: Logger;
}

/** A listening gRPC server. */
export interface RunningGrpcServer {
  port: number;
  /** Sets every service's health (grpc.health.v1) to SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
  /** Marks health NOT_SERVING, then closes: waits for calls to end, up to graceMs, then cuts them. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The gRPC port: grpc-js serving fastworker's services, grpc.health.v1 and
 * server reflection (so grpcurl and `buf curl` need no .proto files).
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new GuardedServer({
    "grpc.max_receive_message_length": options.maxReceiveBytes,
    "grpc.max_send_message_length": -1,
    "grpc.max_concurrent_streams": MAX_STREAMS_PER_CONNECTION,
    interceptors: [authInterceptor(options.access)],
  });
  const services = [""];
  // Services learn who called (peer, credential) for their audit lines; the interceptor already refused the rest.
  const contextValues: CallContextValues = (call) =>
    callerValues({ peer: call.getPeer(), credential: options.access.credentials.authenticate(headerOf(call.metadata))?.credential ?? "none" });
  for (const { service, impl } of options.services) {
    addServiceImpl(server, service, impl as Partial<ServiceImpl<DescService>>, options.logger, contextValues);
    services.push(service.typeName);
  }
  const health = new HealthStatuses(services, ServingStatus.SERVING);
  addServiceImpl(server, Health, health.impl, options.logger);
  // Reflection describes what is mounted: each service's file, and health's.
  addReflection(server, [...new Set(options.services.map(({ service }) => service.file)), file_grpc_health_v1_health], options.logger);

  const port = await new Promise<number>((resolve, reject) => {
    const credentials =
      options.tls === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(
            options.tls.clientCa ?? null,
            [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
            options.tls.clientCa !== undefined,
          );
    server.bindAsync(hostPort(options.host, options.port), credentials, (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  const setServing = (serving: boolean): void => {
    for (const name of services) health.setStatus(name, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  };
  return {
    port,
    setServing,
    async stop(graceMs) {
      setServing(false);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** "host:port", with brackets for IPv6 hosts. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

function headerOf(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get(AUTH_HEADER)[0];
  return typeof value === "string" ? value : undefined;
}

/** Checks every call against the access table before any handler (ours, health, reflection) sees it. */
function authInterceptor(access: AccessControl): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const verdict = access.check({ path: method.path, header: headerOf(metadata), peer: call.getPeer() });
            if (verdict.ok) nextMetadata(metadata);
            else call.sendStatus({ code: verdict.code as number as grpc.status, details: verdict.message });
          },
        }),
    });
}
