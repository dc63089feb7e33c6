import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KIND, OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.js";
import { spawnNode, startServer, startWorker, type Proc } from "./helpers/processes.js";

// Spans from every process (example app, fw-server, fw-worker) go to one in-test OTLP/HTTP receiver.
let receiver: OtlpReceiver;
beforeEach(async () => {
  receiver = await new OtlpReceiver().start();
});
afterEach(async () => {
  await receiver.stop();
});

type AppKind = "express" | "fastify";

/**
 * Starts examples/<kind>-app.ts as its header says
 * (`node --import tsx --import ./examples/telemetry.mjs examples/<kind>-app.ts`; the preloads go in NODE_OPTIONS).
 */
async function startApp(kind: AppKind, grpc: string, env: NodeJS.ProcessEnv): Promise<{ proc: Proc; url: string }> {
  const proc = spawnNode(`examples/${kind}-app.ts`, [], {
    NODE_OPTIONS: "--import tsx --import ./examples/telemetry.mjs",
    FW_SERVER: grpc,
    PORT: "0",
    ...env,
  });
  // tsx compiles the app and the OpenTelemetry SDK loads before it listens: slow on a saturated machine.
  const line = await proc.waitForLine(/listening http:\/\//, 60_000);
  return { proc, url: /(http:\/\/\S+)/.exec(line)![1]! };
}

/** Control plane, worker (examples/tasks.ts) and app, all exporting to the receiver with `env` on top. */
async function startStack(kind: AppKind, env: NodeJS.ProcessEnv = {}): Promise<{ server: Proc; worker: Proc; app: Proc; url: string }> {
  const server = await startServer([], { ...receiver.env("fw-server"), ...env });
  const worker = await startWorker(server.grpc, ["--tasks", "examples/tasks.ts"], { ...receiver.env("fw-worker"), ...env });
  const { proc: app, url } = await startApp(kind, server.grpc, { ...receiver.env(`${kind}-app`), ...env });
  return { server, worker, app, url };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function stopAll(...procs: Proc[]): Promise<void> {
  for (const proc of procs) expect(await proc.stop("SIGTERM")).toMatchObject({ code: 0 });
}

function find(spans: ReceivedSpan[], service: string, name: string): ReceivedSpan[] {
  return spans.filter((s) => s.service === service && s.name === name);
}

function one(spans: ReceivedSpan[], service: string, name: string): ReceivedSpan {
  const found = find(spans, service, name);
  expect(found, `one "${name}" span from ${service}`).toHaveLength(1);
  return found[0]!;
}

/**
 * The trace of one request that submitted one task: the app's HTTP server
 * span is the root; the producer span, the wait in the queue and each
 * attempt's execution hang below it.
 */
function expectRequestTrace(kind: AppKind, taskName: string, taskId: string, attempts: number): void {
  const spans = receiver.spans;
  const app = `${kind}-app`;
  const http = one(spans, app, "POST");
  expect(http).toMatchObject({ kind: KIND.server, parentSpanId: "" });
  const trace = spans.filter((s) => s.traceId === http.traceId);

  const submit = one(trace, app, `submit ${taskName}`);
  expect(submit).toMatchObject({ kind: KIND.producer, parentSpanId: http.spanId });
  expect(submit.attributes).toMatchObject({
    "messaging.system": "fastworker",
    "messaging.operation.name": "submit",
    "messaging.operation.type": "create",
    "messaging.destination.name": taskName,
    "messaging.message.id": taskId,
  });

  // Submissions travel on the client's long-lived Session stream, which is not traced as a gRPC call.
  expect(trace.filter((s) => s.name.includes("TaskService/Session"))).toEqual([]);

  const queued = find(trace, "fw-server", `queued ${taskName}`).sort((a, b) => Number(a.attributes["fastworker.task.attempt"]) - Number(b.attributes["fastworker.task.attempt"]));
  const executed = find(trace, "fw-worker", `execute ${taskName}`).sort((a, b) => Number(a.attributes["fastworker.task.attempt"]) - Number(b.attributes["fastworker.task.attempt"]));
  expect(queued).toHaveLength(attempts);
  expect(executed).toHaveLength(attempts);
  for (let n = 1; n <= attempts; n++) {
    const wait = queued[n - 1]!;
    expect(wait).toMatchObject({ kind: KIND.internal, parentSpanId: submit.spanId });
    expect(wait.attributes).toMatchObject({
      "messaging.system": "fastworker",
      "messaging.destination.name": taskName,
      "messaging.message.id": taskId,
      "fastworker.task.priority": "normal",
      "fastworker.task.attempt": n,
    });
    const execute = executed[n - 1]!;
    // A child of the creation context, and linked to it as the messaging conventions ask of process spans.
    expect(execute).toMatchObject({ kind: KIND.consumer, parentSpanId: submit.spanId });
    expect(execute.links).toEqual([{ traceId: http.traceId, spanId: submit.spanId }]);
    expect(execute.attributes).toMatchObject({
      "messaging.system": "fastworker",
      "messaging.operation.name": "execute",
      "messaging.operation.type": "process",
      "messaging.destination.name": taskName,
      "messaging.message.id": taskId,
      "fastworker.task.priority": "normal",
      "fastworker.task.attempt": n,
      "fastworker.task.outcome": n === attempts ? "succeeded" : "failed",
    });
    expect(execute.status).toBe(n === attempts ? 0 : 2);
  }
}

describe("tracing across the queue", () => {
  it("an Express request, its submission, the queue wait and the execution form one trace (spans flushed at SIGTERM)", async () => {
    // Spans leave each process only when it shuts down: this proves the flush on SIGTERM.
    const { server, worker, app, url } = await startStack("express", { OTEL_BSP_SCHEDULE_DELAY: "600000" });
    const body = await post(`${url}/add?wait=1`, { a: 1, b: 2 });
    expect(body).toMatchObject({ sum: 3 });
    await stopAll(app, worker, server);
    await receiver.waitFor(
      () => ["express-app", "fw-server", "fw-worker"].every((service) => receiver.spans.some((s) => s.service === service && !s.name.startsWith("grpc."))),
      "spans from the app, the control plane and the worker",
    );
    expectRequestTrace("express", "add", String(body.id), 1);
  });

  it("a Fastify request's task, retried, shows every attempt in the request's trace", async () => {
    const { url } = await startStack("fastify");
    const body = await post(`${url}/tasks/flaky?wait=1`, { succeedOnAttempt: 2 });
    expect(body).toMatchObject({ result: { attempt: 2 } });
    await receiver.waitFor(
      () => find(receiver.spans, "fw-worker", "execute flaky").length === 2 && find(receiver.spans, "fw-server", "queued flaky").length === 2
        && find(receiver.spans, "fastify-app", "POST").length === 1,
      "both attempts' spans and the request's",
    );
    expectRequestTrace("fastify", "flaky", String(body.id), 2);
    const failed = find(receiver.spans, "fw-worker", "execute flaky").find((s) => s.attributes["fastworker.task.attempt"] === 1)!;
    expect(failed.attributes).toMatchObject({ "error.type": "Error", "fastworker.task.max_attempts": 5 });
  });

  it("with tracing off, no process makes a span", async () => {
    // An endpoint is configured but OTEL_TRACES_EXPORTER=none switches tracing off: nothing may arrive.
    const { server, worker, app, url } = await startStack("express", { OTEL_TRACES_EXPORTER: "none" });
    expect(await post(`${url}/add?wait=1`, { a: 2, b: 3 })).toMatchObject({ sum: 5 });
    await stopAll(app, worker, server);
    expect(receiver.spans).toEqual([]);
  });
});
