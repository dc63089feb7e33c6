// Micro-benchmark, not used by default runs: what checking args and results
// for depth and non-finite numbers (common/json-limits.ts) adds to the
// submission path, next to the JSON.parse that validation already does.
//   npm run build && node bench/experiments/json-limits.mjs
// "parse" is what validateSubmit did before (JSON.parse of args_json);
// "check" is jsonLimitProblem() alone; "walk" is the obvious alternative
// (walk the parsed value), for comparison. Prints the median ns per call of
// 9 alternating rounds, per kind of args.
import { jsonLimitProblem } from "../../dist/common/json-limits.js";

const CASES = {
  "small object {a,b}": JSON.stringify({ a: 1, b: 2 }),
  "typical 200 B": JSON.stringify({ userId: 123456, email: "someone@example.com", items: [{ sku: "A-1", qty: 2 }, { sku: "B-7", qty: 1 }], note: "deliver after 5pm" }),
  "with an exponent 1e300": JSON.stringify({ x: 1e300, y: "e123" }),
  "1 KiB nested 8": JSON.stringify(Array.from({ length: 8 }, (_, i) => ({ i, s: "x".repeat(100), n: [[[[[[1]]]]]] }))),
  "64 KiB string": JSON.stringify({ blob: "y".repeat(64 * 1024) }),
  "64 KiB numbers": JSON.stringify(Array.from({ length: 8000 }, (_, i) => i * 1.5)),
};

function walk(value, depth) {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || value === null) return true;
  if (depth >= 32) return false;
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (!walk(item, depth + 1)) return false;
  return true;
}

const contenders = {
  parse: (text) => JSON.parse(text),
  check: (text) => jsonLimitProblem(text),
  walk: (text) => walk(JSON.parse(text), 0),
};

function time(fn, text) {
  let n = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(text);
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > 20e6) return ns / n;
    n *= 2;
  }
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}; ns per call, median of 9 rounds`);
console.log(["args", ...Object.keys(contenders), "check / parse"].join("\t"));
for (const [name, text] of Object.entries(CASES)) {
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let round = 0; round < 9; round++) for (const [k, fn] of Object.entries(contenders)) samples[k].push(time(fn, text));
  const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
  console.log([name, ...Object.keys(contenders).map((k) => m[k].toFixed(0)), `${((100 * m.check) / m.parse).toFixed(0)}%`].join("\t"));
}
