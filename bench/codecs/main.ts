// The codec micro-benchmark: encodes and decodes the hot messages with the
// generated codecs (common/wire/codecs.ts) and with protobuf-es's reflection
// (toBinary/fromBinary, as grpc-definition.ts does for other messages), in
// one process, alternating contenders within every round, and prints the
// median time per message of each. See bench/codecs/README.md.
//
//   npm run bench:codecs
//   npm run bench:codecs -- --rounds 21 --round-ms 60
//   npm run bench:codecs -- --case "×64"          (only the cases whose name has this)
//   npm run bench:codecs -- --with hand=/path/to/old/common/wire/codecs.ts
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { cpus, loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { HOT_CODECS, type Codec } from "../../common/wire/codecs.js";
import { median } from "../lib/stats.js";
import { SAMPLES, type Sample } from "./messages.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "15" },
    "round-ms": { type: "string", default: "40" },
    with: { type: "string", multiple: true, default: [] },
    case: { type: "string", default: "" },
  },
});
const rounds = Number(args.rounds);
const roundMs = Number(args["round-ms"]);

type Op = "encode" | "decode";
/** A contender: how it encodes and decodes a sample. */
interface Contender {
  label: string;
  encode(sample: Sample): unknown;
  decode(sample: Sample, bytes: Buffer): unknown;
}

const codecContender = (label: string, codecs: ReadonlyMap<string, Codec<unknown>>): Contender => ({
  label,
  encode: (sample) => codecs.get(sample.schema.typeName)!.encode(sample.message),
  decode: (sample, bytes) => codecs.get(sample.schema.typeName)!.decode(bytes),
});
const contenders: Contender[] = [
  {
    label: "protobuf-es",
    encode: (sample) => {
      const bytes = toBinary(sample.schema, sample.message as never);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode: (sample, bytes) => fromBinary(sample.schema, bytes),
  },
  codecContender("generated", HOT_CODECS),
];
for (const extra of args.with) {
  const [label, path] = extra.split("=") as [string, string];
  const module = (await import(pathToFileURL(path).href)) as { HOT_CODECS: ReadonlyMap<string, Codec<unknown>> };
  contenders.push(codecContender(label, module.HOT_CODECS));
}

let sink = 0;
/** Runs `op` for about `ms` milliseconds; returns nanoseconds per call. */
function measure(run: () => unknown, ms: number): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms * 1e6);
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 16; i++) sink ^= (run() as { length?: number }).length ?? 1;
    calls += 16;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls;
}

console.log(`codec micro-benchmark: Node ${process.version}, ${cpus()[0]?.model ?? "?"} (${cpus().length} cores), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`${rounds} rounds of ${roundMs} ms per contender and case, contenders alternating; medians in µs per message\n`);

// Warm every contender on every case first, so that no case is measured while the JIT still learns another.
const cases = SAMPLES.filter((sample) => sample.name.includes(args.case)).flatMap((sample) => {
  const bytes = Buffer.from(toBinary(sample.schema, sample.message as never));
  return (["encode", "decode"] as Op[]).map((op) => ({ sample, bytes, op, runs: contenders.map((c) => (op === "encode" ? () => c.encode(sample) : () => c.decode(sample, bytes))) }));
});
for (let pass = 0; pass < 3; pass++) for (const { runs } of cases) for (const run of runs) measure(run, roundMs);

const rows: string[][] = [];
const speedups = new Map<string, number[]>();
for (const { sample, bytes, op, runs } of cases) {
  const samples = contenders.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    // A different contender goes first in each round.
    for (let i = 0; i < contenders.length; i++) {
      const c = (i + round) % contenders.length;
      samples[c]!.push(measure(runs[c]!, roundMs));
    }
  }
  const medians = samples.map(median);
  const row = [sample.name, `${bytes.length} B`, op, ...medians.map((ns) => (ns / 1000).toFixed(2))];
  for (let c = 1; c < contenders.length; c++) {
    const speedup = medians[0]! / medians[c]!;
    row.push(`${speedup.toFixed(2)}×`);
    const key = `${contenders[c]!.label} ${op}`;
    speedups.set(key, [...(speedups.get(key) ?? []), speedup]);
  }
  rows.push(row);
}

const header = ["message", "size", "op", ...contenders.map((c) => `${c.label} µs`), ...contenders.slice(1).map((c) => `${c.label} speed-up`)];
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map((h, i) => (i < 3 ? "---" : "---:")).join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log();
for (const [key, values] of speedups) {
  const geomean = Math.exp(values.reduce((a, v) => a + Math.log(v), 0) / values.length);
  console.log(`${key}: ${geomean.toFixed(2)}× protobuf-es (geometric mean over the cases; lowest ${Math.min(...values).toFixed(2)}×)`);
}
if (sink === 0.5) console.log(sink); // keeps the results alive
