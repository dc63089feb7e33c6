import { describe, expect, it } from "vitest";
import type { Sample } from "../dashboard/src/live/samples.js";
import { chartSeries } from "../dashboard/src/model/chart-series.js";
import { FIRST_PAGE, lastPage, lastPageOffset, nextPage, previousPage } from "../dashboard/src/model/pager.js";

// The dashboard's plain-logic modules (no DOM), tested in Node.

describe("dashboard pager", () => {
  it("steps to the next and previous pages by the tokens ListTasks answers, and jumps to the last page", () => {
    const second = nextPage(FIRST_PAGE, 50, "nf950");
    expect(second).toEqual({ offset: 50, token: "nf950", last: false });
    expect(nextPage(second, 50, "nf900")).toEqual({ offset: 100, token: "nf900", last: false });
    // Back from the second page is the first page itself (live, no token), whatever token came.
    expect(previousPage(second, 50, "nb949")).toBe(FIRST_PAGE);
    expect(previousPage({ offset: 150, token: "nf850", last: false }, 50, "nb849")).toEqual({ offset: 100, token: "nb849", last: false });
    // 80,000 tasks: the last page starts at 79,950, reached in one request.
    expect(lastPage(80_000, 50)).toEqual({ offset: 79_950, token: "", last: true });
    expect(previousPage(lastPage(80_000, 50), 50, "nb12")).toEqual({ offset: 79_900, token: "nb12", last: false });
  });

  it("places the last page where the pages from the start end", () => {
    expect(lastPageOffset(0, 50)).toBe(0);
    expect(lastPageOffset(50, 50)).toBe(0);
    expect(lastPageOffset(51, 50)).toBe(50);
  });
});

/** One second of history: `succeeded` and `failed` finished in `periodMs`. */
const second = (time: number, succeeded: number, failed: number, periodMs = 1000): Sample => ({
  time, periodMs, submitted: 0, succeeded, failed, cancelled: 0, queued: 0, running: 0,
});

describe("dashboard chart series", () => {
  it("rates over the time the window covers, not over a nominal 10 s", () => {
    // 30 samples; the last ten cover 9.4 s (one short period) with 94 tasks: 10 tasks/s, not 9.4.
    const samples = Array.from({ length: 30 }, (_, i) => (i === 29 ? second(i * 1000, 4, 0, 400) : second(i * 1000, 10, 0)));
    const { recent } = chartSeries(samples);
    expect(recent.periodMs).toBe(9_400);
    expect(recent.finished).toBe(94);
    expect(recent.throughput).toBeCloseTo(10, 10);
  });

  it("gives the failure-rate title and the line's last point from one window, with its counts", () => {
    const samples = [...Array.from({ length: 20 }, (_, i) => second(i * 1000, 1, 0)), second(20_000, 1, 3)];
    const series = chartSeries(samples);
    expect(series.recent).toMatchObject({ failed: 3, finished: 13, failureRate: 3 / 13 });
    expect(series.failureRate.at(-1)).toBe(series.recent.failureRate);
  });
});
