import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackage(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "fastworker" && pkg.version) return { root: dir, version: pkg.version };
    } catch {
      // no readable package.json at this level: keep walking up
    }
    dir = dirname(dir);
  }
  return { root: process.cwd(), version: "0.0.0" };
}

const found = findPackage();

/** This package's version, read once from its package.json. */
export const VERSION = found.version;

/** The directory holding this package's package.json (where dashboard/dist lives). */
export const PACKAGE_ROOT = found.root;
