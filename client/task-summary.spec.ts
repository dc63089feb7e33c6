import { describe, expect, it } from "vitest";
import type { AttemptInfo, TaskInfo } from "./task-info.js";
import { attemptLabel, attemptSeries, attemptSummary, progressLabel } from "./task-summary.js";

// series 0: as an older control plane answers, which does not say (the series are inferred).
const attempt = (number: number, outcome: string, retryable = true, series = 0): AttemptInfo => ({
  number,
  workerId: "w",
  workerName: "w",
  outcome,
  series,
  ...(outcome === "failed" || outcome === "timed_out" || outcome === "lost" ? { error: { message: "x", type: "Error", retryable } } : {}),
});

const task = (state: TaskInfo["state"], maxAttempts: number, outcomes: (string | [string, boolean])[]): Pick<TaskInfo, "state" | "attempt" | "maxAttempts" | "attempts"> => ({
  state,
  maxAttempts,
  attempt: outcomes.length,
  attempts: outcomes.map((o, i) => (typeof o === "string" ? attempt(i + 1, o) : attempt(i + 1, o[0], o[1]))),
});

describe("attemptSeries", () => {
  it("starts a new series after the max-attempts-th failure (RetryTask)", () => {
    const series = attemptSeries(task("running", 5, ["failed", "failed", "failed", "failed", "failed", "failed", "failed", "running"]).attempts, 5);
    expect(series.map((s) => s.attempts.map((a) => a.number))).toEqual([[1, 2, 3, 4, 5], [6, 7, 8]]);
  });

  it("ends a series at a non-retryable failure, a cancelled attempt and the fifth loss in a row", () => {
    const outcomes: (string | [string, boolean])[] = [["failed", false], "cancelled", "lost", "lost", "lost", "lost", "lost", "succeeded"];
    const series = attemptSeries(task("succeeded", 3, outcomes).attempts, 3);
    expect(series.map((s) => s.attempts.map((a) => a.number))).toEqual([[1], [2], [3, 4, 5, 6, 7], [8]]);
  });

  it("does not end a series at a loss or a handed-back attempt", () => {
    const series = attemptSeries(task("running", 2, ["lost", "released", "failed", "running"]).attempts, 2);
    expect(series).toHaveLength(1);
  });
});

describe("attemptSeries and attemptSummary with the series the control plane recorded", () => {
  it("groups by the recorded series, even where inference cannot tell (cancelled while waiting to retry, then retried)", () => {
    // #1 failed (retryable, 3 allowed), cancelled during the backoff, retried by hand: #2 is the first of series 2.
    const attempts = [attempt(1, "failed", true, 1), attempt(2, "running", true, 2)];
    expect(attemptSeries(attempts, 3, false, 2).map((s) => [s.number, s.attempts.map((a) => a.number)])).toEqual([[1, [1]], [2, [2]]]);
    const summary = attemptSummary({ state: "running", attempt: 2, maxAttempts: 3, attempts, series: 2, seriesAttempt: 1 })!;
    expect(attemptLabel(summary)).toBe("1 of 3 · series 2");
  });

  it("lists the current series before its first attempt, and works on a listing's task (no attempts)", () => {
    expect(attemptSeries([attempt(1, "failed", false, 1)], 1, true, 2).map((s) => s.number)).toEqual([1, 2]);
    const listed = attemptSummary({ state: "running", attempt: 8, maxAttempts: 5, attempts: [], series: 2, seriesAttempt: 3 })!;
    expect(attemptLabel(listed)).toBe("3 of 5 · series 2");
    expect(listed.dispatches).toBe(8);
  });

  it("counts redeliveries in the current series", () => {
    const attempts = [attempt(1, "lost", true, 1), attempt(2, "running", true, 1)];
    expect(attemptLabel(attemptSummary({ state: "running", attempt: 2, maxAttempts: 3, attempts, series: 1, seriesAttempt: 1 })!)).toBe("1 of 3 · 1 redelivered");
  });
});

describe("attemptSummary", () => {
  it("says the attempt within its series, not the 8th of 5", () => {
    const t = task("running", 5, ["failed", "failed", "failed", "failed", "failed", "failed", "failed", "running"]);
    const summary = attemptSummary(t)!;
    expect(summary).toEqual({ series: 2, attempt: 3, maxAttempts: 5, redelivered: 0, dispatches: 8 });
    expect(attemptLabel(summary)).toBe("3 of 5 · series 2");
  });

  it("does not count lost attempts, and says how many ran again", () => {
    const summary = attemptSummary(task("running", 3, ["lost", "failed", "running"]))!;
    expect(attemptLabel(summary)).toBe("2 of 3 · 1 redelivered");
  });

  it("opens the next series when a failed task was queued again and has not run yet", () => {
    const summary = attemptSummary(task("queued", 1, [["failed", false]]))!;
    expect(attemptLabel(summary)).toBe("not started · series 2");
    expect(attemptLabel(attemptSummary(task("failed", 1, [["failed", false]]))!)).toBe("1 of 1");
    expect(attemptLabel(attemptSummary(task("queued", 3, []))!)).toBe("not started");
  });

  it("gives up on a listing's task, which carries no attempts", () => {
    expect(attemptSummary({ state: "running", attempt: 2, maxAttempts: 3, attempts: [] })).toBeUndefined();
  });
});

describe("progressLabel", () => {
  it("does not repeat a percentage the message already says", () => {
    expect(progressLabel({ fraction: 0.4, message: "40% of 30000 ms" })).toEqual({ fraction: 0.4, text: "40% of 30000 ms" });
  });
  it("puts the percentage before another message, and alone without one", () => {
    expect(progressLabel({ fraction: 0.25, message: "copying" })).toEqual({ fraction: 0.25, text: "25% · copying" });
    expect(progressLabel({ fraction: 1, message: "" })).toEqual({ fraction: 1, text: "100%" });
  });
  it("treats 0 with a message as an unknown fraction, and clamps what is out of range", () => {
    expect(progressLabel({ fraction: 0, message: "waiting for the API" })).toEqual({ fraction: undefined, text: "waiting for the API" });
    expect(progressLabel({ fraction: 0, message: "" })).toEqual({ fraction: 0, text: "0%" });
    expect(progressLabel({ fraction: 7, message: "" }).fraction).toBe(1);
  });
});
