import { afterEach, describe, expect, it } from "vitest";
import { startInMemoryTracing, type InMemoryTracing } from "../test/helpers/in-memory-tracing.js";
import { activeTracer } from "./tracing.js";
import { tracerProviderRegistered } from "./tracing-attributes.js";

let tracing: InMemoryTracing | undefined;
afterEach(async () => {
  await tracing?.stop();
  tracing = undefined;
});

describe("activeTracer", () => {
  it("is undefined while no OpenTelemetry SDK is registered", () => {
    expect(activeTracer()).toBeUndefined();
  });

  it("answers a tracer once an SDK is registered, and none after it is removed", async () => {
    tracing = startInMemoryTracing();
    const tracer = activeTracer();
    expect(tracer).toBeDefined();
    expect(activeTracer()).toBe(tracer);
    tracer!.startSpan("probe").end();
    expect(tracing.exporter.getFinishedSpans().map((s) => s.instrumentationScope.name)).toEqual(["fastworker"]);
    await tracing.stop();
    tracing = undefined;
    expect(activeTracer()).toBeUndefined();
  });
});

describe("tracerProviderRegistered", () => {
  it("answers as activeTracer does whether a provider is registered, without the API (the key the API shares its globals under)", async () => {
    expect(tracerProviderRegistered()).toBe(false);
    tracing = startInMemoryTracing();
    expect(tracerProviderRegistered()).toBe(true);
    await tracing.stop();
    tracing = undefined;
    expect(tracerProviderRegistered()).toBe(false);
  });
});
