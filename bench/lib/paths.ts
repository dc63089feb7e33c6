import { fileURLToPath } from "node:url";

/** The repository root (bench/ lives directly under it). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** An absolute path inside the repository, e.g. `repoPath("dist/bin/fw-server.js")`. */
export function repoPath(relative: string): string {
  return `${ROOT}${relative}`;
}

/** Node flags that load TypeScript files (the harness's own processes run .ts through tsx). */
export const TSX_FLAGS: readonly string[] = ["--import", "tsx"];
