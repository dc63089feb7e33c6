import { accessSync, constants, readdirSync } from "node:fs";

// Programs looked up on this machine without a shell. The harness starts PostgreSQL from what
// postgresBinDir() finds, and the env tests (test/helpers/requires.ts) skip or run by the same
// look, so the two never disagree about whether PostgreSQL is installed.

/** Whether `path` is a file this process may run. */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The newest installed PostgreSQL's bin directory (Debian keeps postgres and initdb off the PATH), if any. */
export function postgresBinDir(): string | undefined {
  let majors: number[];
  try {
    majors = readdirSync("/usr/lib/postgresql").map(Number).filter(Number.isInteger);
  } catch {
    return undefined;
  }
  return majors
    .sort((a, b) => b - a)
    .map((major) => `/usr/lib/postgresql/${major}/bin`)
    .find((bin) => executable(`${bin}/postgres`) && executable(`${bin}/initdb`));
}
