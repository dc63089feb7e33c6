import { describe, expect, it } from "vitest";
import { TaggedDeque } from "./deque.js";
import { MinHeap } from "./min-heap.js";

describe("TaggedDeque", () => {
  it("is FIFO across growth and wrap-around, keeping tags with items", () => {
    const d = new TaggedDeque<string>(4);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) d.push(`v${round}-${i}`, i);
      for (let i = 0; i < 10; i++) {
        expect(d.peekTag()).toBe(i);
        expect(d.shift()).toBe(`v${round}-${i}`);
      }
    }
    expect(d.length).toBe(0);
    expect(d.shift()).toBeUndefined();
    expect(d.peekTag()).toBeNaN();
  });
});

describe("MinHeap", () => {
  it("pops in key order with tags", () => {
    const h = new MinHeap<string>();
    const keys = [5, 1, 9, 3, 7, 2, 8, 2];
    keys.forEach((k, i) => h.push(`k${k}`, k, i));
    const popped: number[] = [];
    while (h.length > 0) {
      popped.push(h.peekKey());
      h.pop();
    }
    expect(popped).toEqual([...keys].sort((a, b) => a - b));
    expect(h.peekKey()).toBe(Infinity);
  });
});
