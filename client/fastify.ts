import type { FastifyPluginAsync } from "fastify";
import { Client, type ClientOptions } from "./client.js";
import { clientForRequest } from "./request-client.js";

/** Options for the {@link fastworker} plugin: a Client's options, or a client of your own. */
export interface FastworkerPluginOptions extends ClientOptions {
  /** Use this client instead of making one; it is then yours to close. */
  client?: Client;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The app's fastworker client ("fastworker/fastify"). */
    fastworker: Client;
  }
  interface FastifyRequest {
    /** The fastworker client, bound to this request's trace context ("fastworker/fastify"). */
    fastworker: Client;
  }
}

/**
 * Fastify plugin (5): one Client for the app as `fastify.fastworker`, and
 * per request as `request.fastworker`, bound to the request's trace context
 * so the tasks a request submits appear in its trace (see clientForRequest).
 * The client it made closes with the app (onClose).
 *
 * ```ts
 * await app.register(fastworker, { server: "127.0.0.1:50051" });
 * app.post("/orders", async (request) => ({ id: (await request.fastworker.submit("charge", request.body)).id }));
 * ```
 */
const plugin: FastifyPluginAsync<FastworkerPluginOptions> = async (fastify, options) => {
  const client = options.client ?? new Client(options);
  fastify.decorate("fastworker", client);
  fastify.decorateRequest("fastworker", null as unknown as Client);
  fastify.addHook("onRequest", async (request) => {
    request.fastworker = clientForRequest(client, request.headers);
  });
  if (options.client === undefined) fastify.addHook("onClose", async () => client.close());
};

// What fastify-plugin would set: decorations reach the whole app, not only this plugin's scope.
Object.assign(plugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "fastworker" });

export const fastworker = plugin;
export default plugin;
