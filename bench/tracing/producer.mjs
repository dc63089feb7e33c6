// Producer for bench/tracing/overhead.mjs: submits TASKS noop tasks (after a warm-up), waits for every
// result, and prints one JSON line with the measured rate. Run with the example telemetry preload to trace.
import { context, trace } from "@opentelemetry/api";
import { Client } from "fastworker";

const total = Number(process.env.TASKS ?? 20_000);
const warmup = Number(process.env.WARMUP ?? 2_000);
const client = new Client({ server: process.env.FW_SERVER });

async function round(n) {
  const started = performance.now();
  const handles = await Promise.all(Array.from({ length: n }, (_, i) => client.submit("noop", { i })));
  await Promise.all(handles.map((h) => h.result()));
  return performance.now() - started;
}

// With tracing on, each submission belongs to a request-like parent span, as in a web app.
const tracer = trace.getTracer("bench");
const inParent = (fn) => {
  const span = tracer.startSpan("bench round");
  return context.with(trace.setSpan(context.active(), span), fn).finally(() => span.end());
};

await inParent(() => round(warmup));
const cpu = process.cpuUsage();
const ms = await inParent(() => round(total));
const { user, system } = process.cpuUsage(cpu);
const cpuMs = Math.round((user + system) / 1000);
process.stdout.write(`${JSON.stringify({ tasks: total, ms: Math.round(ms), perSecond: Math.round((total / ms) * 1000), cpuMs })}\n`);
await client.close();
