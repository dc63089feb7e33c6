import type { IncomingHttpHeaders } from "node:http";
import { context, propagation, trace } from "@opentelemetry/api";
import { activeTracer } from "../common/tracing.js";
import type { Client } from "./client.js";

/**
 * The client a web request handler gets from the Express middleware or the
 * Fastify plugin: the application's shared Client, with submit() and run()
 * bound to the request's trace context. So a task submitted while handling
 * the request joins the request's trace even where the async context was
 * lost on the way (a callback API, a pooled resource). The context is the
 * active one (the HTTP server span, with HTTP instrumentation), else the
 * caller's `traceparent` header, so a trace continues even without HTTP
 * instrumentation.
 *
 * With tracing off, or with no trace to continue, it is the shared client
 * itself: nothing is allocated per request. Do not close it in a handler:
 * it is shared.
 */
export function clientForRequest(client: Client, headers: IncomingHttpHeaders): Client {
  if (activeTracer() === undefined) return client;
  let requestContext = context.active();
  if (trace.getSpanContext(requestContext) === undefined) requestContext = propagation.extract(requestContext, headers);
  if (trace.getSpanContext(requestContext) === undefined) return client;
  // Everything else (result, getTask, …) is the shared client's own, through the prototype.
  const bound = Object.create(client) as Client;
  type Call = (...args: unknown[]) => Promise<unknown>;
  const submit = client.submit.bind(client) as Call;
  const run = client.run.bind(client) as Call;
  Object.assign(bound, {
    submit: ((...args) => context.with(requestContext, submit, undefined, ...args)) satisfies Call,
    run: ((...args) => context.with(requestContext, run, undefined, ...args)) satisfies Call,
  });
  return bound;
}
