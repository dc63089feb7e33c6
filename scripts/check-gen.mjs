// Proves gen/ is what `buf generate` makes from proto/ with the plugins of
// buf.gen.yaml (protoc-gen-es, and scripts/protoc-gen-fastworker-wire.mjs for
// the hot messages): generates into a temporary directory and compares file by
// file, so a change to proto/, to the hot= list or to the plugin that was not
// regenerated fails. Run by `npm run build`; works outside npm too.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "fw-gen-"));
try {
  // buf finds the local plugin protoc-gen-es on PATH, as under `npm run`.
  const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` };
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", tmp], { cwd: root, stdio: "inherit", env });
  const list = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? list(path) : [path];
    });
  const expected = new Map(list(join(tmp, "gen")).map((f) => [relative(join(tmp, "gen"), f), readFileSync(f, "utf8")]));
  const actual = new Map(list(join(root, "gen")).map((f) => [relative(join(root, "gen"), f), readFileSync(f, "utf8")]));
  const problems = [];
  for (const [file, text] of expected) {
    if (!actual.has(file)) problems.push(`missing: gen/${file}`);
    else if (actual.get(file) !== text) problems.push(`differs: gen/${file}`);
  }
  for (const file of actual.keys()) if (!expected.has(file)) problems.push(`not generated from proto/: gen/${file}`);
  if (problems.length > 0) {
    console.error(`gen/ is out of date with proto/ or its plugins (run \`npm run generate\` and commit):\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`gen/ matches proto/ (${expected.size} files)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
