import { setLogger } from "@grpc/grpc-js";
import { format } from "node:util";
import type { Logger } from "../common/logger.js";
import { safeLine } from "./terminal-text.js";

/** grpc-js's words when no listening address could be bound: fw-server's own error line carries them. */
const BIND_FAILED = /^No address added out of total \d+ resolved/;

/**
 * grpc-js writes what it reports (a proxy it cannot reach, a TLS context it
 * cannot build, a failed bind) to stderr as bare "E …" lines. A binary sends
 * them through its own logger instead, as warnings of component "grpc-js":
 * one format and one stream, filtered by --log-level. GRPC_VERBOSITY still
 * chooses what grpc-js reports (its INFO and DEBUG lines arrive at info and
 * debug). A failed bind is left out: fw-server's error line says it, with
 * grpc-js's words, and what to do.
 */
export function routeGrpcLogs(logger: Logger): void {
  const to = (level: "warn" | "info" | "debug") => (message?: unknown, ...rest: unknown[]): void => {
    const text = format(message, ...rest);
    if (level === "warn" && BIND_FAILED.test(text)) return;
    logger[level]({ component: "grpc-js" }, text);
  };
  setLogger({ error: to("warn"), info: to("info"), debug: to("debug") });
}

/**
 * The same for `fw`, which has no logger: grpc-js's lines go to stderr as
 * `fw: grpc-js: …`, in the form of fw's own lines (one per line, controls
 * removed), instead of grpc-js's bare "E …" lines.
 */
export function printGrpcLogs(write: (line: string) => void): void {
  const to = (message?: unknown, ...rest: unknown[]): void => write(`fw: grpc-js: ${safeLine(format(message, ...rest))}\n`);
  setLogger({ error: to, info: to, debug: to });
}
