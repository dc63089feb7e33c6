import { describe, expect, it } from "vitest";
import { HistogramCell } from "./histogram-cell.js";

describe("HistogramCell", () => {
  it("counts each value in the first bucket whose bound is not below it", () => {
    const cell = new HistogramCell([1, 5, 10]);
    for (const v of [0.5, 1, 3, 5, 7, 10, 11, 100]) cell.record(v);
    expect(cell.snapshot()).toEqual({
      buckets: { boundaries: [1, 5, 10], counts: [2, 2, 2, 2] },
      sum: 137.5,
      count: 8,
      min: 0.5,
      max: 100,
    });
  });

  it("leaves min and max out while empty", () => {
    expect(new HistogramCell([1]).snapshot()).toEqual({ buckets: { boundaries: [1], counts: [0, 0] }, sum: 0, count: 0 });
  });
});
