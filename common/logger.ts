import { createRequire } from "node:module";
import { pino, type Logger } from "pino";

// pino-pretty (30 modules) is read only when a terminal asks for readable lines:
// the JSON logs of a server under a supervisor never need it.
const require = createRequire(import.meta.url);

export type { Logger };

/** How logs are written: human lines, or one JSON object per line. */
export type LogFormat = "pretty" | "json";

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal, silent. Default info. */
  level?: string;
  /** Default: pretty when stderr is a terminal, json otherwise. */
  format?: LogFormat;
  /** Shown on every line, e.g. "fw-server". */
  name?: string;
}

/**
 * The process logger. Logs go to stderr so that stdout carries only what
 * scripts read (the ready line, command output).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const format = options.format ?? (process.stderr.isTTY ? "pretty" : "json");
  if (format === "pretty") {
    const pretty = require("pino-pretty") as typeof import("pino-pretty");
    return pino(
      { level, name: options.name },
      pretty({ destination: 2, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss.l" }),
    );
  }
  return pino({ level, name: options.name, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that writes nothing, for library users who did not ask for logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
