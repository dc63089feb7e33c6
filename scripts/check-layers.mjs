#!/usr/bin/env node
// Checks the import directions between the top-level folders (run by `npm run build`, so CI fails
// on a backwards import). The rules, from ARCHITECTURE.md:
//   common                    imports only common and gen
//   server, worker, client    import their own folder, common and gen
//   cli                       composes: may import anything
//   index.ts                  the library entry: worker, client, common
//   dashboard                 its own folder, gen, and the browser-safe conversions in client and common
// Unit tests (*.spec.ts, *.suite.ts) may also import test/helpers; nothing else may import a test file.
// A folder named internal/ is private to its parent folder (e.g. server/store/internal: only server/store).
// Imports are read with TypeScript's own pre-processor, so comments and strings never count.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const ALLOWED = {
  common: ["common", "gen"],
  server: ["server", "common", "gen"],
  worker: ["worker", "common", "gen"],
  client: ["client", "common", "gen"],
  cli: ["cli", "server", "worker", "client", "common", "gen"],
  "index.ts": ["worker", "client", "common", "gen"],
  dashboard: ["dashboard", "client", "common", "gen"],
};
const TEST_FILE = /\.(spec|suite)\.tsx?$/;

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) yield path;
  }
}

const files = [join(root, "index.ts")];
for (const folder of Object.keys(ALLOWED)) if (folder !== "index.ts") files.push(...sources(join(root, folder)));

const layerOf = (path) => {
  const rel = relative(root, path);
  if (rel.startsWith("..")) return undefined;
  return rel === "index.ts" ? "index.ts" : rel.split(sep)[0];
};

const problems = [];
for (const file of files) {
  const layer = layerOf(file);
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  for (const ref of info.importedFiles) {
    const spec = ref.fileName;
    if (!spec.startsWith(".")) continue; // packages: not ours
    const target = resolve(dirname(file), spec);
    const targetLayer = layerOf(target);
    const where = `${relative(root, file)} imports ${spec}`;
    const allowed = TEST_FILE.test(file) ? [...ALLOWED[layer], "test"] : ALLOWED[layer];
    if (targetLayer === undefined || !allowed.includes(targetLayer)) {
      problems.push(`${where}: ${layer} may import only ${ALLOWED[layer].join(", ")}`);
    } else if (/[/\\]internal[/\\]/.test(target) && !file.startsWith(target.slice(0, target.search(/[/\\]internal[/\\]/)) + sep)) {
      problems.push(`${where}: ${relative(root, target.slice(0, target.search(/[/\\]internal[/\\]/)))}/internal is private to that folder`);
    } else if ((targetLayer === "test" || TEST_FILE.test(target.replace(/\.js$/, ".ts"))) && !TEST_FILE.test(file)) {
      problems.push(`${where}: test code is for tests only`);
    }
  }
}
if (problems.length > 0) {
  console.error(`import directions broken (${problems.length}); see the rules at the top of scripts/check-layers.mjs:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`import directions ok (${files.length} files)`);
