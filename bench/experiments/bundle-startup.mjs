#!/usr/bin/env node
// What fw-server's start costs in time and memory, bundled and not, and how much of its memory is
// V8's optimising compiler: four ways of starting the same build.
//   modules          dist/cli/bin/fw-server.js: tsc's output, one module per source file
//   modules, no-opt  the same with node --no-opt: V8's optimising compiler (TurboFan) never runs
//   bundle           dist/bin/fw-server.js: what the fw-server command runs (scripts/bundle-bins.mjs)
//   bundle, no-opt   both
//
//   npm run build && node bench/experiments/bundle-startup.mjs [starts=5]
//
// Each start: `fw-server --in-memory` on port 0, timed from spawn to its ready line; VmRSS split
// into anonymous memory and file pages (mostly the node binary's own code) 1.5 s after it. The
// variants alternate, so the machine's drift touches each alike. Prints every start and the medians.
// --no-opt is not a setting to run with (it makes dispatch several times slower); it shows the
// part of the file pages that is TurboFan's own code, touched as soon as anything gets hot.
import { setTimeout as sleep } from "node:timers/promises";
import { memoryMiB, root, startServer } from "./lib/server-process.mjs";

const starts = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const modules = `${root}/dist/cli/bin/fw-server.js`;
const bundle = `${root}/dist/bin/fw-server.js`;
const variants = [
  { name: "modules", script: modules, nodeArgs: [] },
  { name: "modules, no-opt", script: modules, nodeArgs: ["--no-opt"] },
  { name: "bundle", script: bundle, nodeArgs: [] },
  { name: "bundle, no-opt", script: bundle, nodeArgs: ["--no-opt"] },
];
const runs = new Map(variants.map((v) => [v.name, []]));

for (let i = 0; i < starts; i++) {
  for (const v of variants) {
    const { proc, readySeconds } = await startServer(["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "error"], v.nodeArgs, v.script);
    try {
      await sleep(1500);
      const r = { readyMs: readySeconds * 1000, ...memoryMiB(proc.pid) };
      runs.get(v.name).push(r);
      console.log(`start ${i + 1}, ${v.name}: ready in ${r.readyMs.toFixed(0)} ms, ${r.total.toFixed(1)} MiB (anonymous ${r.anon.toFixed(1)}, file pages ${r.file.toFixed(1)})`);
    } finally {
      proc.kill("SIGTERM");
      await new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.once("exit", resolve)));
    }
  }
}

console.log(`\nmedians of ${starts} starts:`);
for (const [name, rs] of runs) {
  const m = (key) => median(rs.map((r) => r[key]));
  console.log(`${name.padEnd(16)} ready in ${m("readyMs").toFixed(0).padStart(4)} ms, ${m("total").toFixed(1)} MiB (anonymous ${m("anon").toFixed(1)}, file pages ${m("file").toFixed(1)})`);
}
