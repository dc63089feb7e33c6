import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterEach } from "vitest";
import { silentLogger, type Logger } from "../../common/logger.js";
import { addServiceImpl } from "../../server/transport/grpc-adapter.js";

/** A grpc-js server in the test's own process, on 127.0.0.1 and a free port. */
export interface LoopbackGrpcServer {
  /** host:port to dial. */
  readonly address: string;
  /** Ends every call at once and stops listening. */
  close(): void;
}

/** What this module opened during the current test, closed after it (clients before their servers). */
const open: (() => void)[] = [];
afterEach(() => {
  for (const close of open.splice(0).reverse()) close();
});

/**
 * Listens with a server whose services are already mounted (a plain
 * grpc.Server, or the control plane's GuardedServer) on 127.0.0.1 and a free
 * port, for unit specs of the gRPC edges: no processes, loopback only.
 * Closed after the test, if the test did not close it first.
 */
export async function listenOnLoopback(server: grpc.Server): Promise<LoopbackGrpcServer> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const close = (): void => server.forceShutdown();
  open.push(close);
  return { address: `127.0.0.1:${port}`, close };
}

/**
 * Serves implementations written like the control plane's (connect-es
 * `ServiceImpl`s, mounted by the real grpc-adapter) in-process, on loopback
 * (see {@link listenOnLoopback}).
 */
export async function serveOnLoopback<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  logger: Logger = silentLogger(),
): Promise<LoopbackGrpcServer> {
  const server = new grpc.Server();
  addServiceImpl(server, service, impl, logger);
  return listenOnLoopback(server);
}

/**
 * A grpc-js client with no message types, to send raw bytes as a hostile
 * peer would (with an identity serializer). Closed after the test.
 */
export function rawClient(address: string): grpc.Client {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  open.push(() => client.close());
  return client;
}
