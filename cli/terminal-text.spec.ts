import { describe, expect, it } from "vitest";
import { safeJson, safeLine, safeText } from "./terminal-text.js";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

const HOSTILE = [
  "\x1b[31mred\x1b[0m",
  "\x1b[2J\x1b[H cleared",
  "\x1b]0;owned title\x07",
  "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
  "\x1bP1$r evil\x1b\\",
  "\x9b31m8-bit CSI",
  "\x9d0;8-bit OSC\x9c",
  "bell\x07 back\b\b space\r carriage",
  "\x1b",
  "trailing ESC [\x1b[",
  "del\x7f c1\x85 nel",
];

describe("terminal-safe text", () => {
  it("removes escape sequences whole and every control character from one-line fields", () => {
    expect(safeLine("\x1b[31mred\x1b[0m")).toBe("red");
    expect(safeLine("\x1b]0;owned title\x07after")).toBe("after");
    expect(safeLine("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\")).toBe("link");
    expect(safeLine("two\nlines\tand a tab")).toBe("two lines and a tab");
    for (const text of HOSTILE) expect(safeLine(text), JSON.stringify(text)).not.toMatch(CONTROL);
  });

  it("keeps newlines (and only them) in multi-line text", () => {
    expect(safeText("line 1\r\nline 2\n\x1b[1mbold\x1b[0m\ttab")).toBe("line 1\nline 2\nboldtab");
    for (const text of HOSTILE) expect(safeText(text), JSON.stringify(text)).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it("leaves ordinary text alone, Unicode included", () => {
    for (const text of ["add", "Grüße, 世界 🚀", "a-b_c.d", "x = 1; y = [2]"]) {
      expect(safeLine(text)).toBe(text);
      expect(safeText(text)).toBe(text);
    }
  });

  it("escapes C1 controls in JSON without changing its value", () => {
    const value = { message: "\x1b[31mred\x9b2J\x85\x7f", ok: "Grüße" };
    const json = safeJson(JSON.stringify(value));
    expect(json).not.toMatch(CONTROL);
    expect(JSON.parse(json)).toEqual(value);
  });
});
