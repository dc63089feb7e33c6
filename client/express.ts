import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Client, type ClientOptions } from "./client.js";
import { clientForRequest } from "./request-client.js";

/** Options for {@link fastworker}: a Client's options, or a client of your own. */
export interface FastworkerMiddlewareOptions extends ClientOptions {
  /** Use this client instead of making one; it is then yours to close. */
  client?: Client;
}

/** The middleware, with the client it hands out and its shutdown. */
export interface FastworkerMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** The shared client (also `req.fastworker`). */
  readonly client: Client;
  /** Closes the client when `server` closes (e.g. on SIGTERM after server.close()); returns the server. */
  closeWith<S extends Server>(server: S): S;
  /** Closes the client it made (a client you passed in stays open). */
  close(): Promise<void>;
}

declare global {
  // Express's own way to type request extensions (@types/express merges this namespace).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The fastworker client, bound to this request's trace context ("fastworker/express"). */
      fastworker: Client;
    }
  }
}

/**
 * Express middleware (4 and 5): one Client for the app, handed to every
 * handler as `req.fastworker`, bound to the request's trace context so the
 * tasks a request submits appear in its trace (see clientForRequest).
 *
 * ```ts
 * const fw = fastworker({ server: "127.0.0.1:50051" });
 * app.use(fw);
 * app.post("/orders", async (req, res) => res.json({ id: (await req.fastworker.submit("charge", req.body)).id }));
 * fw.closeWith(app.listen(3000));
 * ```
 */
export function fastworker(options: FastworkerMiddlewareOptions = {}): FastworkerMiddleware {
  const owned = options.client === undefined;
  const client = options.client ?? new Client(options);
  const middleware = (req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void => {
    (req as IncomingMessage & { fastworker: Client }).fastworker = clientForRequest(client, req.headers);
    next();
  };
  const close = async (): Promise<void> => {
    if (owned) await client.close();
  };
  return Object.assign(middleware, {
    client,
    close,
    closeWith<S extends Server>(server: S): S {
      server.once("close", () => void close());
      return server;
    },
  });
}
