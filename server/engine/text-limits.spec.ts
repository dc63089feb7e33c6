import { describe, expect, it } from "vitest";
import { truncateText } from "./text-limits.js";

describe("truncateText", () => {
  it("keeps text within the limit as it is", () => {
    expect(truncateText("", 4)).toBe("");
    expect(truncateText("abcd", 4)).toBe("abcd");
    expect(truncateText("é".repeat(2), 4)).toBe("éé"); // 4 bytes
  });

  it("cuts at a character boundary and says how many bytes were left out", () => {
    expect(truncateText("abcdef", 4)).toBe("abcd…[truncated 2 bytes]");
    // "é" is 2 bytes: 5 bytes of room hold two of them, the third does not fit whole.
    expect(truncateText("ééé", 5)).toBe("éé…[truncated 2 bytes]");
    // An astral character (4 bytes, a surrogate pair) is never split.
    expect(truncateText("a😀b", 3)).toBe("a…[truncated 5 bytes]");
    const long = "x".repeat(100_000);
    const cut = truncateText(long, 1024);
    expect(cut).toBe(`${"x".repeat(1024)}…[truncated ${100_000 - 1024} bytes]`);
  });

  it("cuts every kind of text to a valid prefix within the limit", () => {
    const alphabet = ["a", "é", "€", "😀", "\u0000", "\ud800"]; // a lone surrogate counts 3 bytes (U+FFFD)
    for (let i = 0; i < 500; i++) {
      let text = "";
      for (let n = i % 40; n > 0; n--) text += alphabet[(i * 7 + n * 13) % alphabet.length];
      const limit = (i * 5) % 23;
      const out = truncateText(text, limit);
      const total = Buffer.byteLength(text);
      if (total <= limit) {
        expect(out).toBe(text);
        continue;
      }
      const match = /^([\s\S]*)…\[truncated (\d+) bytes\]$/.exec(out);
      expect(match, out).not.toBeNull();
      const kept = match![1]!;
      expect(text.startsWith(kept)).toBe(true);
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(limit);
      expect(Buffer.byteLength(kept) + Number(match![2])).toBe(total);
    }
  });
});
