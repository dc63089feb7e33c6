import { describe, expect, it } from "vitest";
import { backoffMs, DEFAULT_RETRY, MAX_BACKOFF_MS, resolveRetry } from "./retry-policy.js";

describe("retry policy", () => {
  it("takes each field from the submission, else the definition, else the default", () => {
    expect(resolveRetry(undefined, undefined)).toBe(DEFAULT_RETRY);
    expect(resolveRetry({ maxAttempts: 3 }, { maxAttempts: 5, initialBackoffMs: 10 })).toEqual({
      maxAttempts: 3,
      initialBackoffMs: 10,
      maxBackoffMs: 60_000,
      multiplier: 2,
    });
  });

  it("grows exponentially, is capped, and jitters between half and all of it", () => {
    const policy = { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it("never waits longer than MAX_BACKOFF_MS, whatever a stored policy says", () => {
    const policy = resolveRetry({ maxAttempts: 1000, initialBackoffMs: 10 * MAX_BACKOFF_MS, maxBackoffMs: 100 * MAX_BACKOFF_MS }, undefined);
    expect(policy.maxBackoffMs).toBe(MAX_BACKOFF_MS);
    expect(backoffMs(policy, 999, () => 1)).toBe(MAX_BACKOFF_MS);
  });
});
