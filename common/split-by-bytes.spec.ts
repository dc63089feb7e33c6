import { describe, expect, it } from "vitest";
import { countByBytes, exceedsBytes, mapBytes, splitByBytes, type ByteBudget } from "./split-by-bytes.js";

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

/** Items are strings; each costs its text plus a 10-byte allowance. */
const budget = (maxBytes: number): ByteBudget<string> => ({ maxBytes, bytesOf: (s, text) => text(s) + 10 });
const exactSize = (chunk: string[]): number => chunk.reduce((sum, s) => sum + utf8(s) + 10, 0);

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/** Text over the whole range: ASCII, 2- and 3-byte characters, surrogate pairs (4 bytes) and lone surrogates (3). */
function text(next: () => number, length: number): string {
  let s = "";
  while (s.length < length) {
    const kind = Math.floor(next() * 5);
    if (kind === 0) s += String.fromCharCode(0x20 + Math.floor(next() * 0x5f));
    else if (kind === 1) s += String.fromCharCode(0x80 + Math.floor(next() * 0x780));
    else if (kind === 2) s += String.fromCharCode(0xe000 + Math.floor(next() * 0x2000));
    else if (kind === 3) s += String.fromCodePoint(0x10000 + Math.floor(next() * 0x100000));
    else s += String.fromCharCode(0xd800 + Math.floor(next() * 0x800));
  }
  return s;
}

describe("splitByBytes", () => {
  it("gives the array itself when everything fits, and one empty chunk for no items", () => {
    const items = ["a", "b", "c"];
    const chunks = splitByBytes(items, budget(100));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toBe(items);
    expect(splitByBytes([], budget(100))).toEqual([[]]);
  });

  it("cuts in order, and sends an item larger than the limit alone", () => {
    const items = ["x".repeat(40), "x".repeat(40), "x".repeat(200), "x".repeat(10), "x".repeat(10)];
    expect(splitByBytes(items, budget(100)).map((c) => c.map((s) => s.length))).toEqual([[40, 40], [200], [10, 10]]);
  });

  it("measures bytes: 3-byte characters never make a message over the limit", () => {
    // 1,000 euro signs: 1,000 UTF-16 units, 3,000 bytes. By length four would fit in 4,100 bytes.
    const items = Array.from({ length: 10 }, () => "€".repeat(1000));
    const chunks = splitByBytes(items, budget(4100));
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(splitByBytes(items, budget(6020)).map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
  });

  it("never passes the limit and leaves no room unused, for any text and limit", () => {
    const next = random(20_240_611);
    for (let round = 0; round < 300; round++) {
      const maxBytes = 16 + Math.floor(next() * 4000);
      const items = Array.from({ length: Math.floor(next() * 60) }, () => text(next, Math.floor(next() * 600)));
      const chunks = splitByBytes(items, budget(maxBytes));
      expect(chunks.flat()).toEqual(items);
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        if (chunk.length > 1) expect(exactSize(chunk)).toBeLessThanOrEqual(maxBytes);
        // Greedy: the next chunk's first item would not have fitted in this one.
        if (i + 1 < chunks.length) expect(exactSize([...chunk, chunks[i + 1]![0]!])).toBeGreaterThan(maxBytes);
      }
    }
  });

  it("counts exact bytes only near the limit (the hot path reads lengths)", () => {
    const measures: number[] = [];
    const probe: ByteBudget<string> = {
      maxBytes: 1000,
      bytesOf: (s, text) => {
        measures.push(text("a")); // 3 with the length bound, 1 when exact
        return text(s);
      },
    };
    expect(countByBytes(["x".repeat(100), "x".repeat(100)], 0, probe)).toBe(2);
    expect(measures).toEqual([3, 3]);
    measures.length = 0;
    // 3 × 300 = 900 fits the bound; the fourth would pass it, so all four are counted exactly: 400 bytes.
    expect(countByBytes(["x".repeat(100), "x".repeat(100), "x".repeat(100), "x".repeat(100)], 0, probe)).toBe(4);
    expect(measures).toEqual([3, 3, 3, 3, 1, 1, 1, 1]);
  });
});

describe("countByBytes", () => {
  it("starts at an index and stops at maxCount", () => {
    const items = ["a", "b", "c", "d", "e"];
    expect(countByBytes(items, 1, budget(1000))).toBe(4);
    expect(countByBytes(items, 1, budget(1000), 2)).toBe(2);
    expect(countByBytes(items, 5, budget(1000))).toBe(0);
    expect(countByBytes(["x".repeat(500)], 0, budget(10))).toBe(1);
  });
});

describe("mapBytes", () => {
  it("counts keys and values with the measure given", () => {
    expect(mapBytes(undefined, utf8)).toBe(0);
    expect(mapBytes({}, utf8)).toBe(0);
    expect(mapBytes({ a: "€", bb: "" }, utf8)).toBe(1 + 3 + 8 + 2 + 8);
  });
});

describe("exceedsBytes", () => {
  it("compares UTF-8 bytes, not UTF-16 length", () => {
    expect(exceedsBytes("x".repeat(1024), 1024)).toBe(false);
    expect(exceedsBytes("x".repeat(1025), 1024)).toBe(true);
    expect(exceedsBytes("€".repeat(341), 1024)).toBe(false); // 1,023 bytes
    expect(exceedsBytes("€".repeat(342), 1024)).toBe(true); // 342 units, 1,026 bytes
    expect(exceedsBytes("😀".repeat(256), 1024)).toBe(false); // 512 units, 1,024 bytes
    expect(exceedsBytes("😀".repeat(257), 1024)).toBe(true);
    expect(exceedsBytes("\ud800".repeat(342), 1024)).toBe(true); // a lone surrogate is sent as 3 bytes
    expect(exceedsBytes("", 0)).toBe(false);
  });
});
