import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { AUTH_HEADER, tokenChecker, UNAUTHENTICATED_MESSAGE } from "../../common/transport/auth.js";
import type { Logger } from "../../common/logger.js";
import { file_fastworker_v1_admin_service } from "../../gen/fastworker/v1/admin_service_pb.js";
import { file_fastworker_v1_task_service } from "../../gen/fastworker/v1/task_service_pb.js";
import { file_fastworker_v1_worker_service } from "../../gen/fastworker/v1/worker_service_pb.js";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import { addServiceImpl } from "./grpc-adapter.js";
import { GuardedServer } from "./guarded-server.js";

/**
 * The most calls open at once on one gRPC connection (HTTP/2
 * SETTINGS_MAX_CONCURRENT_STREAMS): a client or worker uses a handful (a
 * Session, a Dispatch and a report stream, a few unary calls); a peer
 * opening thousands of streams to hold memory is refused more. Clients queue
 * calls past it until one ends.
 */
export const MAX_STREAMS_PER_CONNECTION = 256;
import { reflectionPackage } from "./reflection.js";

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
  /** When set, every call (reflection and health included) needs it. */
  token?: string | undefined;
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
    interceptors: options.token ? [authInterceptor(options.token)] : [],
  });
  const statuses: Record<string, "SERVING"> = { "": "SERVING" };
  for (const { service, impl } of options.services) {
    addServiceImpl(server, service, impl as Partial<ServiceImpl<DescService>>, options.logger);
    statuses[service.typeName] = "SERVING";
  }
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  new ReflectionService(
    reflectionPackage([
      file_fastworker_v1_task_service,
      file_fastworker_v1_worker_service,
      file_fastworker_v1_admin_service,
      file_grpc_health_v1_health,
    ]),
  ).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(options.host, options.port), grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  const setServing = (serving: boolean): void => {
    for (const name of Object.keys(statuses)) health.setStatus(name, serving ? "SERVING" : "NOT_SERVING");
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

function authInterceptor(token: string): grpc.ServerInterceptor {
  const check = tokenChecker(token);
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const value = metadata.get(AUTH_HEADER)[0];
            if (check(typeof value === "string" ? value : undefined)) nextMetadata(metadata);
            else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: UNAUTHENTICATED_MESSAGE });
          },
        }),
    });
}
