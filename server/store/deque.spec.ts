import { describe, expect, it } from "vitest";
import { TaggedDeque } from "./deque.js";

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

describe("TaggedDeque clear", () => {
  it("empties an entry where it stands (across growth and wrap-around), only while it holds that item", () => {
    const d = new TaggedDeque<string>(4);
    d.push("old", 0);
    d.shift();
    const positions = ["a", "b", "c", "d", "e", "f"].map((v, i) => d.push(v, i)); // grows past 4
    expect(positions).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.clear(positions[2]!, "c")).toBe(true);
    expect(d.clear(positions[2]!, "c")).toBe(false); // already empty
    expect(d.clear(positions[3]!, "x")).toBe(false); // another item is there
    expect(d.clear(0, "old")).toBe(false); // shifted off already
    expect(d.clear(99, "a")).toBe(false);
    const out: (string | undefined)[] = [];
    while (d.length > 0) out.push(d.shift());
    expect(out).toEqual(["a", "b", undefined, "d", "e", "f"]);
  });
});
