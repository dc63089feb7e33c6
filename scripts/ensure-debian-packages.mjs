#!/usr/bin/env node
// Makes sure Debian packages the tests or benchmarks need are installed:
//   node scripts/ensure-debian-packages.mjs chromium redis-server
// Each argument is "package" or "package:/path/of/its/binary" (default
// /usr/bin/<package>). Present binaries are left alone. Missing ones are
// installed with apt-get when running as root; otherwise the script says
// exactly what to run and exits 1. Never downloads anything else.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const wanted = process.argv.slice(2).map((arg) => {
  const [name, binary] = arg.split(":");
  return { name, binary: binary ?? `/usr/bin/${name}` };
});
const missing = wanted.filter((p) => !existsSync(p.binary));
if (missing.length === 0) process.exit(0);

const names = missing.map((p) => p.name);
if (process.getuid?.() !== 0) {
  console.error(`missing Debian packages: ${names.join(", ")}. Install them with: sudo apt-get install -y ${names.join(" ")}`);
  process.exit(1);
}
const apt = (args) => execFileSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
console.error(`installing Debian packages: ${names.join(", ")}`);
try {
  apt(["install", "-y", "--no-install-recommends", ...names]);
} catch {
  // The package lists may be missing or stale on a fresh machine: refresh once and try again.
  apt(["update"]);
  apt(["install", "-y", "--no-install-recommends", ...names]);
}
for (const p of missing) {
  if (!existsSync(p.binary)) {
    console.error(`installed ${p.name} but ${p.binary} is still missing`);
    process.exit(1);
  }
}
