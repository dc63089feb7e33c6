import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { AUTH_HEADER } from "../../common/transport/auth.js";
import type { Logger } from "../../common/logger.js";
import type { AccessControl } from "./access-control.js";
import { callerIn, callerValues, setCredential } from "./call-context.js";
import type { ServiceBinding } from "./grpc-server.js";
import { guardBinaryRequests } from "./binary-request-guard.js";
import { limitHttpServer } from "./http-limits.js";
import { httpGuards } from "./http-guards.js";
import type { HostAllowlist } from "./host-allowlist.js";
import type { TlsFiles } from "./tls.js";

/** A route served on the HTTP port besides Connect and the dashboard (e.g. /metrics). */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Options for {@link startHttpServer}. */
export interface HttpServerOptions {
  host: string;
  port: number;
  services: readonly ServiceBinding[];
  /** Who may call what: every RPC and route is checked (the dashboard's files need nothing). */
  access: AccessControl;
  /** Serve HTTPS (and, with a client CA, require client certificates); HTTP without. */
  tls?: TlsFiles | undefined;
  /** Host header values answered (others: 421). */
  hosts: HostAllowlist;
  /** Origins allowed to call cross-origin (--cors-origin); none: no CORS. */
  corsOrigins?: readonly string[];
  maxReceiveBytes: number;
  /** Serves everything that is not an RPC or a route (the dashboard). */
  fallback: HttpRoute;
  /** Extra paths, e.g. { "/metrics": handler }: each needs its row's scope in METHOD_SCOPES, or read without one. */
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
 * itself. Every request passes the Host allowlist and gets the security
 * headers first (http-guards.ts); every RPC and route is checked against
 * the access table, like on the gRPC port.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const interceptors: Interceptor[] = [internalErrors(options.logger), authInterceptor(options.access)];
  const rpc = connectNodeAdapter({
    contextValues: (req) => callerValues({ peer: peerOf(req.socket), credential: "none" }),
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
        const route = options.routes?.[path];
        if (route !== undefined) {
          const verdict = options.access.check({ path, header: req.headers[AUTH_HEADER], peer: peerOf(req.socket), unlisted: "read" });
          if (!verdict.ok) {
            const status = verdict.code === Code.Unauthenticated ? 401 : 403;
            res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) });
            res.end(`${verdict.message}\n`);
            return;
          }
        }
        Promise.resolve((route ?? options.fallback)(req as IncomingMessage, res as ServerResponse)).catch(fail);
      } catch (err) {
        fail(err);
      }
    },
  });
  const guard = httpGuards({ hosts: options.hosts, corsOrigins: options.corsOrigins });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!guard(req, res)) rpc(req, res);
  };
  const tls = options.tls;
  const server: Server =
    tls === undefined
      ? createServer(handle)
      : createTlsServer(
          { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: tls.clientCa !== undefined, rejectUnauthorized: tls.clientCa !== undefined },
          handle,
        );
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

/** Checks every RPC against the access table; the handler learns the credential (for audit lines). */
function authInterceptor(access: AccessControl): Interceptor {
  return (next) => async (req) => {
    const peer = callerIn(req.contextValues).peer;
    const verdict = access.check({ path: `/${req.service.typeName}/${req.method.name}`, header: req.header.get(AUTH_HEADER), peer });
    if (!verdict.ok) throw new ConnectError(verdict.message, verdict.code);
    setCredential(req.contextValues, verdict.grant.credential);
    return await next(req);
  };
}

/** "address:port" of a socket's far end. */
function peerOf(socket: Socket | undefined): string {
  return socket === undefined ? "unknown" : `${socket.remoteAddress ?? "unknown"}:${socket.remotePort ?? 0}`;
}
