#!/usr/bin/env node
// Builds the browser dashboard: dashboard/src -> dashboard/dist (index.html +
// content-hashed assets, each with .br and .gz copies that the control plane
// sends to browsers that accept them). Run by `npm run build` (so
// `npm install` builds it too). Everything is bundled: the page loads nothing
// from the internet.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "dashboard", "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ["dashboard/src/main.tsx"],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  splitting: false,
  minify: true,
  // No source map: it would add ~900 KiB to the package for little use.
  sourcemap: false,
  // Current Chromium and Firefox (and Safari): ES2022 syntax runs as is.
  target: ["chrome111", "firefox115", "safari16.4"],
  jsx: "automatic",
  jsxImportSource: "preact",
  tsconfig: "dashboard/tsconfig.json",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).filter((f) => !f.endsWith(".map"));
const script = outputs.find((f) => f.endsWith(".js"));
const style = outputs.find((f) => f.endsWith(".css"));
if (script === undefined) throw new Error("esbuild produced no JavaScript bundle");
const asset = (file) => `/assets/${basename(file)}`;
const html = readFileSync(join(root, "dashboard", "index.html"), "utf8")
  .replace("<!-- styles -->", style ? `<link rel="stylesheet" href="${asset(style)}" />` : "")
  .replace("<!-- script -->", `<script type="module" src="${asset(script)}"></script>`);
writeFileSync(join(out, "index.html"), html);

// Compressed once here at the highest levels, instead of on every request (server/transport/static-files.ts).
const compress = (file) => {
  const bytes = readFileSync(file);
  const gzip = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
  const brotli = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  writeFileSync(`${file}.gz`, gzip);
  writeFileSync(`${file}.br`, brotli);
  return { bytes: bytes.length, gzip: gzip.length, brotli: brotli.length };
};
compress(join(out, "index.html"));
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const sizes = outputs.map((file) => {
  const size = compress(join(root, file));
  return `${relative(root, file)} ${kib(size.bytes)} (${kib(size.gzip)} gzip, ${kib(size.brotli)} brotli)`;
});
console.log(`dashboard built: ${sizes.join(", ")}`);
