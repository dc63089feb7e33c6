import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { LmdbLog } from "./lmdb-log.js";

/**
 * Copies a consistent snapshot of a data directory into `destination`
 * (created if missing; it must be empty), compacting it on the way. Works
 * beside a running control plane: LMDB copies from one read transaction, so
 * the copy is the state as of one commit. Start a control plane on the copy
 * to restore it.
 */
export async function backupState(dataDir: string, destination: string): Promise<string> {
  const source = resolve(dataDir);
  const target = resolve(destination);
  if (!existsSync(join(source, "data.mdb"))) throw new Error(`${source} holds no fastworker state (no data.mdb): is --data-dir right?`);
  mkdirSync(target, { recursive: true });
  if (readdirSync(target).length > 0) throw new Error(`${target} is not empty: back up into a new or empty directory`);
  const log = LmdbLog.open(source, { readOnly: true });
  try {
    await log.backup(target);
  } finally {
    await log.close();
  }
  return target;
}
