import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("allows max at once, then refills at max per window", () => {
    const bucket = new TokenBucket(20, 1000, 0);
    let taken = 0;
    while (bucket.take(0)) taken++;
    expect(taken).toBe(20);
    expect(bucket.nextAt(0)).toBe(50); // one token per 50 ms
    expect(bucket.take(49)).toBe(false);
    expect(bucket.take(50)).toBe(true);
    expect(bucket.nextAt(50)).toBe(100);
    expect(bucket.isFull(50)).toBe(false);
    expect(bucket.fullAt(50)).toBe(1050);
    expect(bucket.isFull(1050)).toBe(true);
  });

  it("starts at most max + max·T/window in any window T (100 starts at 20/s take 4 s after the burst)", () => {
    const bucket = new TokenBucket(20, 1000, 0);
    const starts: number[] = [];
    for (let now = 0; starts.length < 100; now = bucket.nextAt(now)) if (bucket.take(now)) starts.push(now);
    expect(starts[99]).toBe(4000);
    for (let i = 0; i < starts.length; i++) {
      const inWindow = starts.filter((t) => t >= starts[i]! && t < starts[i]! + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(40);
    }
  });

  it("keeps its tokens (capped) when reconfigured", () => {
    const bucket = new TokenBucket(10, 1000, 0);
    bucket.take(0);
    bucket.reconfigure(5, 1000, 0);
    expect(bucket.available(0)).toBe(5);
  });
});
