#!/usr/bin/env node
// Builds the browser dashboard: dashboard/src -> dashboard/dist (index.html +
// content-hashed assets). Run by `npm run build` (so `npm install` builds it
// too). Everything is bundled: the page loads nothing from the internet.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { gzipSync } from "node:zlib";

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

const sizes = outputs.map((file) => {
  const bytes = readFileSync(join(root, file));
  return `${relative(root, file)} ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzip)`;
});
console.log(`dashboard built: ${sizes.join(", ")}`);
