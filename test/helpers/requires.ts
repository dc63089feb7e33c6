import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { executable, postgresBinDir } from "../../bench/lib/executables.js";
import { privateLanUnavailable } from "./netns.js";

/**
 * What the env tier needs from the machine beyond Node, and the one way a
 * test says so. A test file in `test/` that calls {@link missing} is an env
 * test (vitest.config.ts puts it in the `env` project by that call):
 *
 * ```ts
 * describe.skipIf(missing("chromium"))("dashboard", () => { … });
 * ```
 *
 * When everything is there, missing() answers false and the group runs.
 * When something is not:
 * - by default it prints one line naming the Debian package, e.g.
 *   `skipped test/dashboard.test.ts: needs Chromium — apt-get install chromium`,
 *   and answers true, so `npm test` on a machine with only Node passes;
 * - with `CI` set (`CI=true`; "", "0" and "false" count as unset) it throws,
 *   so the file and the run fail: CI (`.ci/run`) installs every package first,
 *   and a missing one there is a broken machine, not a reason to test less.
 *
 * `FW_TEST_PRETEND_MISSING=chromium,redis-server,ip` (requirement names,
 * their binaries, or `all`) makes present requirements count as missing, to
 * see what a machine without them gets.
 */

/** Debian's Chromium, driven by playwright-core (`test/helpers/browser.ts`). */
export const CHROMIUM = "/usr/bin/chromium";
/** Debian's redis-server, started by the benchmark harness. */
export const REDIS_SERVER = "/usr/bin/redis-server";

interface Requirement {
  /** What a person would call it, in the skip line. */
  what: string;
  /** The Debian package that provides it. */
  debian: string;
  /** Other names FW_TEST_PRETEND_MISSING accepts (the binary's). */
  aliases: string[];
  /** Undefined when usable here; otherwise how to make it usable (an `apt-get install …`, or another fix). */
  fix(): string | undefined;
}

const install = (pkg: string): string => `apt-get install ${pkg}`;
const binary = (path: string, pkg: string) => (): string | undefined => (executable(path) ? undefined : install(pkg));

const REQUIREMENTS = {
  chromium: { what: "Chromium", debian: "chromium", aliases: [], fix: binary(CHROMIUM, "chromium") },
  "redis-server": { what: "redis-server", debian: "redis-server", aliases: ["redis"], fix: binary(REDIS_SERVER, "redis-server") },
  /** Private networks made of namespaces, veths and a bridge (`test/helpers/netns.ts`). */
  netns: {
    what: "network namespaces (ip netns, as root)",
    debian: "iproute2",
    aliases: ["ip", "iproute2"],
    fix(): string | undefined {
      if (process.platform !== "linux") return `run on Linux (this is ${process.platform})`;
      if (!executable("/usr/bin/ip") && !executable("/sbin/ip")) return install("iproute2");
      if (process.getuid?.() !== 0) return "run the tests as root (creating network namespaces needs it)";
      const refused = privateLanUnavailable();
      return refused === undefined ? undefined : `run where the kernel allows it (${refused})`;
    },
  },
  /** openssl, to make TLS certificates in the test (`test/helpers/pki.ts`); none are committed. */
  openssl: { what: "openssl", debian: "openssl", aliases: [], fix: binary("/usr/bin/openssl", "openssl") },
  /** PostgreSQL's server binaries (Debian keeps them in /usr/lib/postgresql/<major>/bin, off the PATH). */
  postgresql: { what: "PostgreSQL", debian: "postgresql", aliases: ["postgres"], fix: () => (postgresBinDir() === undefined ? install("postgresql") : undefined) },
} satisfies Record<string, Requirement>;

/** A requirement an env test can name. */
export type RequirementName = keyof typeof REQUIREMENTS;

const reported = new Set<string>();

/**
 * True when something this test file needs is missing here: it then prints
 * one skip line (once per file and requirement), or throws when CI is set.
 * See the top of this file.
 */
export function missing(...names: [RequirementName, ...RequirementName[]]): boolean {
  const file = testFile();
  const pretend = pretendMissing();
  let absent = false;
  for (const name of names) {
    const requirement: Requirement = REQUIREMENTS[name];
    const fix = pretend.has("all") || pretend.has(name) || requirement.aliases.some((a) => pretend.has(a)) ? install(requirement.debian) : requirement.fix();
    if (fix === undefined) continue;
    absent = true;
    const line = `${file}: needs ${requirement.what} — ${fix}`;
    if (inCi()) throw new Error(`${line} (CI is set: a missing requirement fails the run instead of skipping)`);
    if (!reported.has(line)) process.stderr.write(`skipped ${line}\n`);
    reported.add(line);
  }
  return absent;
}

function inCi(): boolean {
  const ci = (process.env.CI ?? "").trim().toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

function pretendMissing(): Set<string> {
  return new Set((process.env.FW_TEST_PRETEND_MISSING ?? "").split(",").map((s) => s.trim()).filter(Boolean));
}

/** The calling test file, relative to the repository (vitest knows it while collecting). */
function testFile(): string {
  const path = expect.getState().testPath;
  return path === undefined ? "this test file" : relative(fileURLToPath(new URL("../..", import.meta.url)), path);
}
