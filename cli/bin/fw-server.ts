#!/usr/bin/env node
/**
 * The fw-server command's entry point: OpenTelemetry first (when OTEL_*
 * asks for it), so gRPC is instrumented, then the command itself.
 */
import { beforeExit } from "../process.js";
import { startTelemetry } from "../../common/telemetry.js";

const telemetry = await startTelemetry({ serviceName: "fw-server" });
if (telemetry !== undefined) beforeExit(() => telemetry.shutdown());
await import("../fw-server.js");
