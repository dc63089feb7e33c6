import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AUTH_HEADER, tokenChecker, UNAUTHENTICATED_MESSAGE } from "../../common/transport/auth.js";
import type { Logger } from "../../common/logger.js";
import type { ServiceBinding } from "./grpc-server.js";
import { guardBinaryRequests } from "./binary-request-guard.js";
import { limitHttpServer } from "./http-limits.js";

/** A route served on the HTTP port besides Connect and the dashboard (e.g. /metrics). */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Options for {@link startHttpServer}. */
export interface HttpServerOptions {
  host: string;
  port: number;
  services: readonly ServiceBinding[];
  token?: string | undefined;
  maxReceiveBytes: number;
  /** Serves everything that is not an RPC or a route (the dashboard). */
  fallback: HttpRoute;
  /** Extra paths, e.g. { "/metrics": handler }. */
  routes?: Readonly<Record<string, HttpRoute>>;
  logger: Logger;
}

/** A listening HTTP server. */
export interface RunningHttpServer {
  port: number;
  stop(graceMs: number): Promise<void>;
}

/**
 * The HTTP port: the same service implementations over the Connect and
 * gRPC-web protocols (for the browser dashboard and curl), and the dashboard
 * itself. With a token, every RPC needs `authorization: Bearer <token>`.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const interceptors: Interceptor[] = [internalErrors(options.logger), ...(options.token ? [authInterceptor(options.token)] : [])];
  const rpc = connectNodeAdapter({
    routes: (router) => {
      for (const { service, impl } of options.services) router.service(service, impl as Partial<ServiceImpl<DescService>>);
      guardBinaryRequests(router, options.maxReceiveBytes);
    },
    interceptors,
    readMaxBytes: options.maxReceiveBytes,
    // Unknown fields or enum names in JSON are errors, not silently dropped settings.
    jsonOptions: { ignoreUnknownFields: false },
    fallback: (req, res) => {
      const fail = (err: unknown): void => {
        options.logger.error({ err, url: req.url }, "HTTP route failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("internal error; see the control plane's log\n");
      };
      try {
        const path = new URL(req.url ?? "/", "http://localhost").pathname;
        const route = options.routes?.[path] ?? options.fallback;
        Promise.resolve(route(req as IncomingMessage, res as ServerResponse)).catch(fail);
      } catch (err) {
        fail(err);
      }
    },
  });
  const server: Server = createServer(rpc);
  limitHttpServer(server);
  server.keepAliveTimeout = 65_000;
  server.on("clientError", (err, socket) => socket.destroy(err));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      server.on("error", (err) => options.logger.error({ err }, "HTTP server error"));
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async stop(graceMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
        }, graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

/**
 * Answers anything but a ConnectError as INTERNAL with a generic message and
 * logs it, like the gRPC port does: internals never reach a client.
 */
function internalErrors(logger: Logger): Interceptor {
  const mask = (err: unknown, method: string): ConnectError => {
    if (err instanceof ConnectError) return err;
    logger.error({ err, method }, "internal error in RPC handler");
    return new ConnectError("internal error in the control plane; see its log", Code.Internal);
  };
  return (next) => async (req) => {
    const method = `/${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
          } catch (err) {
            throw mask(err, method);
          }
        })(),
      };
    } catch (err) {
      throw mask(err, method);
    }
  };
}

function authInterceptor(token: string): Interceptor {
  const check = tokenChecker(token);
  return (next) => async (req) => {
    if (!check(req.header.get(AUTH_HEADER))) throw new ConnectError(UNAUTHENTICATED_MESSAGE, Code.Unauthenticated);
    return await next(req);
  };
}
