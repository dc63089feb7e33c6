import { describe, expect, it } from "vitest";
import { jsonLimitProblem, MAX_JSON_DEPTH } from "./json-limits.js";
import { seededRandom } from "../test/helpers/random.js";

/** The reference: parse, then walk the value. */
function reference(text: string): "deep" | "huge" | undefined {
  const value: unknown = JSON.parse(text);
  let problem: "deep" | "huge" | undefined;
  const walk = (v: unknown, depth: number): void => {
    if (problem !== undefined) return;
    if (typeof v === "number" && !Number.isFinite(v)) problem = "huge";
    else if (Array.isArray(v)) {
      if (depth + 1 > MAX_JSON_DEPTH) problem = "deep";
      else for (const item of v) walk(item, depth + 1);
    } else if (typeof v === "object" && v !== null) {
      if (depth + 1 > MAX_JSON_DEPTH) problem = "deep";
      else for (const item of Object.values(v)) walk(item, depth + 1);
    }
  };
  walk(value, 0);
  return problem;
}

const kind = (problem: string | undefined): "deep" | "huge" | undefined =>
  problem === undefined ? undefined : problem.includes("nested more than") ? "deep" : "huge";

/** Number texts across the range, including the edges where a double overflows. */
const NUMBERS = [
  "0", "-0", "1", "-1", "1.5", "1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1.8e308", "-1.8e308",
  "1e309", "1E+400", "-1e999", "0e999", "0.0e+999", "1e-999", "123e-400", "9".repeat(308), "9".repeat(309), "1" + "0".repeat(400),
  "0." + "0".repeat(400) + "1", "2e100", "5e-324",
];
/** Strings that look like trouble to a careless scanner. */
const STRINGS = ['"[[[[{{{{"', '"\\"]]]]"', '"1e999"', '"\\\\"', '"a\\\\\\"[["', `"${"9".repeat(320)}"`, '"{\\"a\\":1e999}"', '"é[ü"'];

const FINITE = NUMBERS.filter((n) => Number.isFinite(Number(n)));

/**
 * Random JSON text: a spine nested `depth` levels (arrays and objects mixed),
 * with a few shallow siblings per level; numbers from the full list when
 * `huge` is allowed, else only finite ones.
 */
function randomJson(rand: () => number, depth: number, huge: boolean): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const leaf = (): string => {
    const r = rand();
    if (r < 0.4) return pick(huge ? NUMBERS : FINITE);
    if (r < 0.85) return pick(STRINGS);
    return pick(["true", "false", "null", "[]", "{}"]);
  };
  if (depth === 0) return leaf();
  const items = [randomJson(rand, depth - 1, huge)];
  for (let n = Math.floor(rand() * 3); n > 0; n--) items.splice(Math.floor(rand() * (items.length + 1)), 0, rand() < 0.2 ? `[${leaf()}]` : leaf());
  if (rand() < 0.5) return `[${items.join(",")}]`;
  return `{${items.map((v, i) => `"k${i}":${v}`).join(", ")}}`;
}

describe("jsonLimitProblem", () => {
  it("agrees with parsing and walking the value, on random JSON around both limits", () => {
    const rand = seededRandom(42);
    const seen = { deep: 0, huge: 0, ok: 0 };
    for (let i = 0; i < 3000; i++) {
      const text = randomJson(rand, Math.floor(rand() * (MAX_JSON_DEPTH + 4)), rand() < 0.3);
      const expected = reference(text);
      expect(kind(jsonLimitProblem(text)), text).toBe(expected);
      seen[expected ?? "ok"]++;
    }
    // The generator must reach every outcome, or the comparison proves little.
    expect(seen.deep).toBeGreaterThan(50);
    expect(seen.huge).toBeGreaterThan(50);
    expect(seen.ok).toBeGreaterThan(50);
  });

  it("accepts exactly the limit and refuses one level more, for arrays and objects", () => {
    const nest = (depth: number, open: string, close: string): string => open.repeat(depth) + "1" + close.repeat(depth);
    expect(jsonLimitProblem(nest(MAX_JSON_DEPTH, "[", "]"))).toBeUndefined();
    expect(jsonLimitProblem(nest(MAX_JSON_DEPTH + 1, "[", "]"))).toBe(`arrays or objects nested more than ${MAX_JSON_DEPTH} levels deep (the limit)`);
    expect(jsonLimitProblem(nest(MAX_JSON_DEPTH, '{"a":', "}"))).toBeUndefined();
    expect(jsonLimitProblem(nest(MAX_JSON_DEPTH + 1, '{"a":', "}"))).toMatch(/^arrays or objects nested more than/);
    // Wide is fine: depth, not size.
    expect(jsonLimitProblem(JSON.stringify(Array.from({ length: 1000 }, () => [[1]])))).toBeUndefined();
  });

  it("names the number that would become Infinity", () => {
    expect(jsonLimitProblem("1e999")).toBe("the number 1e999, too large for a double (it reads as Infinity, which JSON cannot hold)");
    expect(jsonLimitProblem('{"a":[1,-1e999]}')).toMatch(/^the number -1e999, too large for a double \(it reads as -Infinity/);
    expect(jsonLimitProblem("9".repeat(400))).toMatch(`the number ${"9".repeat(20)}…, too large`);
    for (const fine of ["1e308", "0e999", "1e-999", '"1e999"', "[1e100]"]) expect(jsonLimitProblem(fine), fine).toBeUndefined();
  });
});
