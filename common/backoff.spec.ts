import { describe, expect, it } from "vitest";
import { backoffMs } from "./backoff.js";

describe("backoffMs", () => {
  const backoff = { initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2 };

  it("grows exponentially from the first failure and is capped", () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffMs(backoff, n, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("jitters between half and all of the wait (equal jitter)", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(backoff, n, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffMs(backoff, 3, () => 0.5)).toBe(300);
    const draws = Array.from({ length: 1000 }, () => backoffMs(backoff, 4));
    for (const wait of draws) {
      expect(wait).toBeGreaterThanOrEqual(400);
      expect(wait).toBeLessThanOrEqual(800);
    }
    // Two processes that failed together do not wait alike.
    expect(new Set(draws).size).toBeGreaterThan(900);
  });

  it("doubles when no multiplier is given, and takes other multipliers", () => {
    expect(backoffMs({ initialBackoffMs: 50, maxBackoffMs: 2000 }, 3, () => 1)).toBe(200);
    expect(backoffMs({ initialBackoffMs: 10, maxBackoffMs: 1e9, multiplier: 1.5 }, 3, () => 1)).toBe(22.5);
    expect(backoffMs({ initialBackoffMs: 10, maxBackoffMs: 1e9, multiplier: 1 }, 30, () => 1)).toBe(10);
  });

  it("counts 0 or fewer failures as the first", () => {
    expect(backoffMs(backoff, 0, () => 1)).toBe(100);
    expect(backoffMs(backoff, -3, () => 1)).toBe(100);
  });

  it("stays a finite number at the extremes the retry policy allows", () => {
    // 1000 attempts with multiplier 100: the exponential overflows to Infinity.
    expect(backoffMs({ initialBackoffMs: 1, maxBackoffMs: 60_000, multiplier: 100 }, 1000, () => 1)).toBe(60_000);
    expect(backoffMs({ initialBackoffMs: 0, maxBackoffMs: 60_000, multiplier: 100 }, 1000, () => 1)).toBe(0);
    expect(backoffMs({ initialBackoffMs: 5000, maxBackoffMs: 0, multiplier: 2 }, 1, () => 1)).toBe(0);
    expect(backoffMs({ initialBackoffMs: 5000, maxBackoffMs: 1000, multiplier: 2 }, 1, () => 1)).toBe(1000);
  });
});
