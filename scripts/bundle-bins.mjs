// Bundles the fw-server and fw commands (what package.json's bin runs) from tsc's output in dist/
// into dist/bin/: a few files instead of ~300 ES modules. Measured with
// bench/experiments/bundle-startup.mjs (see bench/README.md's optimisation log): fw-server's
// start 483 → 285 ms and its idle RSS 62.9 → 59.0 MiB (medians of 7), because Node's module
// loader resolves, reads and compiles a few files instead of hundreds, and keeps less source.
//
// Left as they are (imported from node_modules or dist/ at run time, not copied in):
// - packages with native code: lmdb, msgpackr, pg;
// - packages patched or found as they load: @grpc/grpc-js and @opentelemetry/* (tracing hooks
//   grpc-js when it is imported), pino and its helpers (pino finds its files at run time),
//   @grpc/reflection (loaded at its first call), tsx (registers a module loader);
// - the embedded worker (`fw-server --tasks`): dist/worker/*.js, so a task module that imports
//   "fastworker" shares that worker's classes (TaskCancelledError, …), as with fw-worker, which
//   stays unbundled for the same reason.
// Whitespace goes; names stay: identifiers are not minified, and keepNames gives the classes and
// functions esbuild renames where two modules clash their own names back (`ConnectError`, not
// `_ConnectError`, in a logged error's type; measured: 0.3 MiB). dist/bin/*.js.map maps positions
// back to the TypeScript sources with `node --enable-source-maps`.
import { rmSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = resolve(root, "dist/bin");
const EXTERNAL_PACKAGES = [
  "lmdb",
  "msgpackr",
  "pg",
  "pg-native",
  "@grpc/grpc-js",
  "@grpc/reflection",
  "@opentelemetry/*",
  "pino",
  "pino-pretty",
  "thread-stream",
  "tsx",
];

const workerDir = resolve(root, "dist/worker");
/** Whether a path is in dist/worker/ (or below). */
const inWorkerDir = (path) => {
  const rel = relative(workerDir, resolve(root, path));
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
};

/** Keeps imports of dist/worker/ out of the bundle, as imports of those files from dist/bin/. */
const unbundledWorker = {
  name: "unbundled-worker",
  setup(b) {
    b.onResolve({ filter: /[\\/]worker[\\/][^\\/]+\.js$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (!inWorkerDir(target)) return undefined;
      // "../worker/…" (dist/bin is a sibling), with forward slashes as an import needs.
      return { path: relative(outdir, target).split(sep).join("/"), external: true };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { "fw-server": "dist/cli/bin/fw-server.js", fw: "dist/cli/fw.js" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: "linked",
  external: EXTERNAL_PACKAGES,
  plugins: [unbundledWorker],
  // Bundled CommonJS (commander) calls require() for Node's own modules: ESM output needs one.
  banner: { js: "import { createRequire as __fwCreateRequire } from 'node:module'; const require = __fwCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: "warning",
});

// Whatever the plugin misses (a new static import of worker code, another path form) would copy the
// worker into the bundle, and task modules would see other classes than it uses: refuse to build.
const copied = Object.keys(result.metafile.inputs).filter(inWorkerDir);
if (copied.length > 0) throw new Error(`bundle-bins: worker modules were bundled into dist/bin (${copied.join(", ")}); they must stay in dist/worker`);

const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`bins bundled: ${relative(root, outdir)}/fw-server.js and fw.js (${(bytes / 1024).toFixed(0)} KiB of JavaScript in ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js")).length} files)`);
