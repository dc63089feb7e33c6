import { describe, expect, it } from "vitest";
import { ReplayGuard } from "./replay-guard.js";

describe("ReplayGuard", () => {
  it("accepts a fresh nonce once, refuses it again, and refuses stale or future timestamps", () => {
    const guard = new ReplayGuard({ maxAgeMs: 30_000 });
    const now = 1_000_000;
    expect(guard.check(now - 1000, "a", now)).toBe("fresh");
    expect(guard.check(now - 1000, "a", now + 5)).toBe("replayed");
    expect(guard.check(now - 30_001, "b", now)).toBe("stale");
    expect(guard.check(now + 30_001, "c", now)).toBe("stale");
    expect(guard.check(now + 29_000, "d", now)).toBe("fresh");
  });

  it("forgets nonces once their beacons would be stale, so memory follows the beacon rate", () => {
    const guard = new ReplayGuard({ maxAgeMs: 10_000 });
    for (let t = 0; t < 100_000; t += 1000) expect(guard.check(t, `n${t}`, t)).toBe("fresh");
    expect(guard.size).toBeLessThanOrEqual(11);
    // An old nonce replayed later is stale, not unknown.
    expect(guard.check(0, "n0", 100_000)).toBe("stale");
  });

  it("is bounded even under a flood of distinct fresh nonces", () => {
    const guard = new ReplayGuard({ maxAgeMs: 30_000, maxEntries: 100 });
    for (let i = 0; i < 1000; i++) guard.check(5, `n${i}`, 10);
    expect(guard.size).toBe(100);
  });
});
