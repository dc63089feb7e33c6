import { describe, expect, it } from "vitest";
import { IndexedHeap } from "./indexed-heap.js";

interface Item {
  key: number;
  slot: number;
}

const slot = { get: (i: Item) => i.slot, set: (i: Item, index: number) => (i.slot = index) };

describe("IndexedHeap", () => {
  it("pops in key order and removes any item at once, against a sorted list, over random operations", () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const heap = new IndexedHeap<Item>(slot);
    let model: Item[] = [];
    for (let step = 0; step < 20_000; step++) {
      const r = rand();
      if (r < 0.5) {
        const item = { key: Math.floor(rand() * 1000), slot: -1 };
        heap.push(item, item.key);
        model.push(item);
      } else if (r < 0.75 && model.length > 0) {
        const item = model[Math.floor(rand() * model.length)]!;
        expect(heap.remove(item)).toBe(true);
        expect(item.slot).toBe(-1);
        expect(heap.remove(item)).toBe(false); // not twice
        model = model.filter((m) => m !== item);
      } else {
        const top = heap.pop();
        const min = model.reduce<Item | undefined>((a, m) => (a === undefined || m.key < a.key ? m : a), undefined);
        expect(top?.key).toBe(min?.key);
        if (top !== undefined) model = model.filter((m) => m !== top);
      }
      expect(heap.length).toBe(model.length);
    }
    // A removed item holds no reference in the heap: what is left is exactly the model.
    const left: Item[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) left.push(item);
    expect(new Set(left)).toEqual(new Set(model));
  });

  it("refuses to remove an item it does not hold, even one whose slot points at another", () => {
    const heap = new IndexedHeap<Item>(slot);
    const inside = { key: 1, slot: -1 };
    heap.push(inside, 1);
    expect(heap.remove({ key: 1, slot: 0 })).toBe(false);
    expect(heap.length).toBe(1);
    expect(heap.peekKey()).toBe(1);
  });
});
