import { describe, expect, it } from "vitest";
import { RunTimes } from "./run-times.js";

describe("RunTimes", () => {
  it("answers the nearest-rank median and 95th percentile of a name's recent run times", () => {
    const times = new RunTimes();
    expect(times.summary("a")).toBeUndefined();
    for (let ms = 100; ms >= 1; ms--) times.add("a", ms); // 1..100 ms, in any order
    expect(times.summary("a")).toEqual({ p50Ms: 50, p95Ms: 95, samples: 100 });
    times.add("b", 7);
    expect(times.summary("b")).toEqual({ p50Ms: 7, p95Ms: 7, samples: 1 });
  });

  it("keeps the last 256 per name: older run times leave the percentiles", () => {
    const times = new RunTimes();
    for (let i = 0; i < 256; i++) times.add("a", 1000);
    for (let i = 0; i < 256; i++) times.add("a", 10);
    expect(times.summary("a")).toEqual({ p50Ms: 10, p95Ms: 10, samples: 256 });
  });

  it("forgets the name that got its first run time longest ago past 10,000 names", () => {
    const times = new RunTimes();
    for (let i = 0; i <= 10_000; i++) times.add(`n${i}`, 1);
    expect(times.summary("n0")).toBeUndefined();
    expect(times.summary("n1")).toBeDefined();
    expect(times.summary("n10000")).toBeDefined();
  });
});
