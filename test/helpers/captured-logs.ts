import { pino } from "pino";
import type { Logger } from "../../common/logger.js";

/** One log line as pino wrote it. */
export interface LogLine {
  level: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger (level debug) whose lines a spec can read, and wait for. */
export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: LogLine[];
  /** Resolves with the first line (past or future) whose message matches; fails after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<LogLine>;
}

const LEVELS: Record<number, LogLine["level"]> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

export function captureLogs(): CapturedLogs {
  const lines: LogLine[] = [];
  const waiters: { pattern: RegExp; resolve(line: LogLine): void }[] = [];
  const logger = pino(
    { level: "debug" },
    {
      write(text: string) {
        const raw = JSON.parse(text) as Record<string, unknown> & { level: number; msg?: string };
        const line = { ...raw, level: LEVELS[raw.level] ?? "info", msg: raw.msg ?? "" } as LogLine;
        lines.push(line);
        for (const w of [...waiters]) {
          if (!w.pattern.test(line.msg)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      },
    },
  );
  return {
    logger,
    lines,
    waitFor(pattern, timeoutMs = 5000) {
      const seen = lines.find((l) => pattern.test(l.msg));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; logged:\n${lines.map((l) => `${l.level} ${l.msg}`).join("\n")}`));
        }, timeoutMs);
        const waiter = {
          pattern,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        waiters.push(waiter);
      });
    },
  };
}
