import { describe, expect, it } from "vitest";
import type { Sample } from "../dashboard/src/live/samples.js";
import { chartSeries } from "../dashboard/src/model/chart-series.js";
import { lastPageOffset, PageTokens, seek, type Hop } from "../dashboard/src/model/pager.js";

// The dashboard's plain-logic modules (no DOM), tested in Node.

/** A listing of `total` tasks whose page tokens are "t<offset>", like cursors the client cannot make up. */
function listing(total: number): { hop: Hop; calls: [string, number][] } {
  const calls: [string, number][] = [];
  const hop: Hop = async (token, size) => {
    calls.push([token, size]);
    const from = token === "" ? 0 : Number(token.slice(1));
    const count = Math.max(0, Math.min(size, total - from));
    const end = from + count;
    return { count, next: end < total ? `t${end}` : "" };
  };
  return { hop, calls };
}

describe("dashboard pager", () => {
  it("reaches the last page of 80,000 tasks in hops of 1,000, then pages back from the tokens it noted", async () => {
    const { hop, calls } = listing(80_000);
    const tokens = new PageTokens();
    const target = lastPageOffset(80_000, 50);
    expect(target).toBe(79_950);
    const hops: number[] = [];
    expect(await seek(tokens, target, hop, { onHop: (o) => hops.push(o) })).toEqual({ offset: 79_950, token: "t79950" });
    expect(calls).toHaveLength(80);
    expect(calls.at(-1)).toEqual(["t79000", 950]);
    expect(hops.at(-1)).toBe(79_950);

    // One page newer: one short hop from the nearest token noted on the way.
    calls.length = 0;
    expect(await seek(tokens, 79_900, hop)).toEqual({ offset: 79_900, token: "t79900" });
    expect(calls).toEqual([["t79000", 900]]);
  });

  it("stops where the listing ends when tasks expired meanwhile", async () => {
    const { hop } = listing(1_500);
    expect(await seek(new PageTokens(), 2_950, hop)).toEqual({ offset: 1_000, token: "t1000" });
  });

  it("stops when asked", async () => {
    const { hop } = listing(10_000);
    const abort = new AbortController();
    await expect(seek(new PageTokens(), 9_950, hop, { signal: abort.signal, onHop: () => abort.abort() })).rejects.toThrow();
  });

  it("has nothing to walk for the first pages", async () => {
    const { hop, calls } = listing(10);
    expect(await seek(new PageTokens(), 0, hop)).toEqual({ offset: 0, token: "" });
    expect(lastPageOffset(0, 50)).toBe(0);
    expect(lastPageOffset(50, 50)).toBe(0);
    expect(lastPageOffset(51, 50)).toBe(50);
    expect(calls).toEqual([]);
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
