#!/usr/bin/env node
// What the control plane's start costs in time and memory, and how much of it is loading modules
// and optimising code, by comparing four ways of starting the same build (not adopted: see
// bench/README.md, "Idle RSS: where the 63 MiB go"):
//   modules          dist/cli/bin/fw-server.js as `npm run build` leaves it (what fw-server runs)
//   modules, no-opt  the same with node --no-opt: V8's optimising compiler (TurboFan) never runs
//   bundle           the same code bundled by esbuild into a few files (dependencies with native
//                    parts, run-time resolution or load hooks left as they are)
//   bundle, no-opt   both
//
//   npm run build && node bench/experiments/bundle-startup.mjs [starts=5]
//
// Each start: `fw-server --in-memory` on port 0, timed from spawn to its ready line; VmRSS split
// into anonymous memory and file pages (mostly the node binary's own code) 1.5 s after it. The
// variants alternate, so the machine's drift touches each alike. Prints every start and the medians.
// The bundle is written under dist/.bundle-experiment (inside the package, so package.json and
// node_modules resolve from it) and removed at the end.
import { readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { build } from "esbuild";
import { root, startServer } from "./lib/server-process.mjs";

const starts = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const bundleDir = `${root}/dist/.bundle-experiment`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

rmSync(bundleDir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { "fw-server": "dist/cli/bin/fw-server.js" },
  bundle: true,
  splitting: true, // the dynamic imports (durable store, HA, telemetry, embedded worker) stay separate chunks
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: bundleDir,
  logLevel: "warning",
  // Left as they are: native code (lmdb, msgpackr, pg), packages resolved or hooked at run time
  // (OpenTelemetry's instrumentation patches modules as they load; pino-pretty and @grpc/reflection
  // are found with createRequire; tsx registers a loader).
  external: ["lmdb", "msgpackr", "pg", "pg-native", "@grpc/reflection", "pino-pretty", "thread-stream", "tsx", "@opentelemetry/*"],
  // Bundled CommonJS calls require() for Node's own modules: give ESM output one.
  banner: { js: "import { createRequire as __experimentRequire } from 'node:module'; const require = __experimentRequire(import.meta.url);" },
});

/** VmRSS, RssAnon and RssFile of a process, in MiB. */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]) / 1024;
  return { total: kib("VmRSS"), anon: kib("RssAnon"), file: kib("RssFile") };
}

const variants = [
  { name: "modules", script: undefined, nodeArgs: [] },
  { name: "modules, no-opt", script: undefined, nodeArgs: ["--no-opt"] },
  { name: "bundle", script: `${bundleDir}/fw-server.js`, nodeArgs: [] },
  { name: "bundle, no-opt", script: `${bundleDir}/fw-server.js`, nodeArgs: ["--no-opt"] },
  { name: "dist/bin", script: `${root}/dist/bin/fw-server.js`, nodeArgs: [] },
];
const runs = new Map(variants.map((v) => [v.name, []]));

try {
  for (let i = 0; i < starts; i++) {
    for (const v of variants) {
      const { proc, readySeconds } = await startServer(["--in-memory", "--port", "0", "--http-port", "0", "--no-discovery", "--log-level", "error"], v.nodeArgs, v.script);
      try {
        await sleep(1500);
        const r = { readyMs: readySeconds * 1000, ...rss(proc.pid) };
        runs.get(v.name).push(r);
        console.log(`start ${i + 1}, ${v.name}: ready in ${r.readyMs.toFixed(0)} ms, ${r.total.toFixed(1)} MiB (anonymous ${r.anon.toFixed(1)}, file pages ${r.file.toFixed(1)})`);
      } finally {
        proc.kill("SIGTERM");
        await new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.once("exit", resolve)));
      }
    }
  }
} finally {
  rmSync(bundleDir, { recursive: true, force: true });
}

console.log(`\nmedians of ${starts} starts:`);
for (const [name, rs] of runs) {
  const m = (key) => median(rs.map((r) => r[key]));
  console.log(`${name.padEnd(16)} ready in ${m("readyMs").toFixed(0).padStart(4)} ms, ${m("total").toFixed(1)} MiB (anonymous ${m("anon").toFixed(1)}, file pages ${m("file").toFixed(1)})`);
}
