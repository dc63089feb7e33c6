import { describe, expect, it } from "vitest";
import { RateWindow } from "./rate-window.js";

describe("RateWindow", () => {
  it("divides by the time the window covers, not by its nominal 10 s (the throughput title read ~7% low)", () => {
    const window = new RateWindow(10, 0);
    // 10 tasks a second, steadily, from t = 100 s; read 0.3 s into a second.
    for (let ms = 100_000; ms < 120_300; ms += 100) window.add(ms);
    const now = 120_300;
    expect(window.span(now)).toBe(9_300); // seconds 111..119 whole, 120 for 0.3 s
    expect(window.total(now)).toBe(93);
    expect(window.rate(now)).toBeCloseTo(10, 10);
  });

  it("covers only the time since counting began, at least a second", () => {
    const window = new RateWindow(10, 50_000);
    for (let ms = 50_000; ms < 53_500; ms += 50) window.add(ms);
    expect(window.span(53_500)).toBe(3_500);
    expect(window.rate(53_500)).toBeCloseTo(20, 10);
    window.add(60_000);
    expect(new RateWindow(10, 60_000).span(60_010)).toBe(1_000);
  });

  it("forgets seconds that left the window", () => {
    const window = new RateWindow(10, 0);
    window.add(1_000, 5);
    expect(window.total(10_999)).toBe(5);
    expect(window.total(11_000)).toBe(0);
    expect(window.rate(30_000)).toBe(0);
  });
});
