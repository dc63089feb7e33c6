import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

/** One line of test/fixtures/logged.mjs's log. */
export interface LogEvent {
  event: "start" | "end";
  id: string;
  name: string;
  t: number;
  pid: number;
  schedule?: string;
  tick?: string;
  args?: unknown;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh log file for the tasks of one test (pass it as FW_TEST_LOG), and its reader. */
export function taskLog(): { path: string; env: { FW_TEST_LOG: string }; read(): LogEvent[] } {
  const dir = mkdtempSync(join(tmpdir(), "fw-log-"));
  dirs.push(dir);
  const path = join(dir, "tasks.log");
  return {
    path,
    env: { FW_TEST_LOG: path },
    read() {
      let text = "";
      try {
        text = readFileSync(path, "utf8");
      } catch {
        return [];
      }
      return text.split("\n").filter((l) => l.endsWith("}")).map((l) => JSON.parse(l) as LogEvent);
    },
  };
}

/**
 * The most tasks running at once by the log (ends before starts at the same
 * millisecond: a slot is freed only after its task ended, so that is the
 * true order).
 */
export function maxOverlap(events: readonly LogEvent[], name?: string): number {
  const relevant = events.filter((e) => name === undefined || e.name === name);
  relevant.sort((a, b) => a.t - b.t || (a.event === "end" ? -1 : 1) - (b.event === "end" ? -1 : 1));
  let running = 0;
  let max = 0;
  for (const e of relevant) {
    running += e.event === "start" ? 1 : -1;
    max = Math.max(max, running);
  }
  return max;
}
