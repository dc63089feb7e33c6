import type { Server as Http1Server } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import { MAX_STREAMS_PER_CONNECTION } from "./grpc-server.js";

/** The most connections the HTTP port holds open at once (the dashboard uses a few per browser). */
export const MAX_HTTP_CONNECTIONS = 1024;

/**
 * Bounds what peers can hold on the HTTP port: at most MAX_HTTP_CONNECTIONS
 * connections (more are closed as they come); with HTTP/1.1 one request per
 * connection at a time (Node's own headersTimeout, 60 s, ends slow headers);
 * with HTTP/2, at most MAX_STREAMS_PER_CONNECTION streams per connection, as
 * on the gRPC port. Request bodies are bounded by the Connect adapter's
 * readMaxBytes, response streams by the services' unread bounds.
 */
export function limitHttpServer(server: Http1Server | Http2Server | Http2SecureServer): void {
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  if ("updateSettings" in server) {
    server.updateSettings({ maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION });
  }
}
