import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Where the durable systems keep their files during a run (fw-server's
 * `--data-dir`, PostgreSQL's cluster, Redis's AOF): one directory on one
 * filesystem for all of them, so they pay the same fsync. On tmpfs an fsync
 * costs nothing and the durable numbers would flatter everyone; the harness
 * records the filesystem type and warns then.
 */
export interface DataRoot {
  path: string;
  /** As `stat -f -c %T` names it: "ext2/ext3" (ext4 too), "xfs", "tmpfs", … */
  filesystem: string;
}

/** Resolves (and creates) the data root: `--data-root`, or the OS temp directory. */
export function dataRoot(path: string | undefined): DataRoot {
  const dir = resolve(path ?? tmpdir());
  mkdirSync(dir, { recursive: true });
  let filesystem = "unknown";
  try {
    filesystem = execFileSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).trim();
  } catch {
    // no coreutils stat: leave it unknown
  }
  return { path: dir, filesystem };
}

/** A fresh directory under the data root; the caller removes it. */
export function freshDir(root: DataRoot, prefix: string): string {
  return mkdtempSync(join(root.path, `${prefix}-`));
}
