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

describe("IndexedHeap.update and first", () => {
  it("re-keys items in place and finds the smallest accepted item in key order, against a model", () => {
    let seed = 11;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const heap = new IndexedHeap<Item>(slot);
    const items: Item[] = Array.from({ length: 300 }, (_, i) => ({ key: i, slot: -1 }));
    // Keys unique (random high part, the item's index low), so "in key order" has one answer.
    const inHeap = new Set<Item>();
    for (let step = 0; step < 20_000; step++) {
      const index = Math.floor(rand() * items.length);
      const item = items[index]!;
      if (rand() < 0.7) {
        item.key = Math.floor(rand() * 10_000) * 1000 + index;
        heap.update(item, item.key);
        inHeap.add(item);
      } else {
        heap.remove(item);
        inHeap.delete(item);
      }
      expect(heap.has(item)).toBe(inHeap.has(item));
      const modulus = 1 + Math.floor(rand() * 7);
      const accept = (i: Item): boolean => i.key % modulus === 0;
      const sorted = [...inHeap].sort((a, b) => a.key - b.key);
      const want = sorted.find(accept);
      const limit = 1 + Math.floor(rand() * 20);
      const got = heap.first(accept, limit);
      const position = want === undefined ? -1 : sorted.indexOf(want);
      if (want === undefined && sorted.length <= limit) expect(got).toBeUndefined();
      else if (position >= 0 && position < limit) expect(got?.key).toBe(want!.key);
      else expect(got).toBeNull(); // it looked at `limit` items without an answer
    }
  });
});
