import { describe, expect, it } from "vitest";
import { StallGuard } from "./stall-guard.js";

describe("StallGuard", () => {
  it("reports a gap between runs longer than its threshold, once", () => {
    const guard = new StallGuard(1000);
    expect(guard.check(0)).toBe(0); // the first run has nothing to compare with
    expect(guard.check(250)).toBe(0);
    expect(guard.check(1250)).toBe(0); // exactly the threshold is not a stall
    expect(guard.check(31_250)).toBe(30_000);
    expect(guard.check(31_500)).toBe(0);
  });
});
