import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { silentLogger, type Logger } from "../../common/logger.js";
import { addServiceImpl } from "../../server/transport/grpc-adapter.js";

/** A grpc-js server in the test's own process, on 127.0.0.1 and a free port. */
export interface LoopbackGrpcServer {
  /** host:port to dial. */
  readonly address: string;
  /** Ends every call at once and stops listening. */
  close(): void;
}

/**
 * Serves implementations written like the control plane's (connect-es
 * `ServiceImpl`s, mounted by the real grpc-adapter) in-process, for unit
 * specs of the gRPC edges: no processes, loopback only. Close it in afterEach.
 */
export async function serveOnLoopback<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  logger: Logger = silentLogger(),
): Promise<LoopbackGrpcServer> {
  const server = new grpc.Server();
  addServiceImpl(server, service, impl, logger);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}
