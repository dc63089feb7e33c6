import { createHash } from "node:crypto";
import { realpathSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
}

/**
 * Makes sure one control plane at a time uses a data directory. Two
 * processes writing one LMDB environment would not corrupt it (LMDB locks
 * its writers), but both would dispatch the same queued tasks.
 *
 * The lock is a listening Unix socket, so the kernel releases it when the
 * process dies, even by kill -9: no stale lock file to delete by hand, and
 * no timeout to wait out after a crash. On Linux it lives in the abstract
 * namespace, named after the directory's real path (no file at all; it is
 * per network namespace, so containers sharing a volume must not share a
 * data directory). Elsewhere it is a socket file in the directory; a file
 * nobody listens on is stale and is replaced.
 */
export class DataDirLock {
  private constructor(
    private readonly server: Server,
    private readonly file: string | undefined,
  ) {}

  /** Takes the lock on `dir` (which must exist), or throws DataDirLockedError. */
  static async acquire(dir: string): Promise<DataDirLock> {
    const real = realpathSync(dir);
    if (process.platform === "linux") {
      const name = `\0fastworker-data-dir-${createHash("sha256").update(real).digest("hex").slice(0, 32)}`;
      return new DataDirLock(await listen(name, dir), undefined);
    }
    const file = join(real, "fw-server.lock.sock");
    try {
      return new DataDirLock(await listen(file, dir), file);
    } catch (err) {
      if (!(err instanceof DataDirLockedError) || (await answers(file))) throw err;
      rmSync(file, { force: true }); // left by a process that died
      return new DataDirLock(await listen(file, dir), file);
    }
  }

  /** Releases the lock (also released by the process exiting). */
  async release(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.file !== undefined) rmSync(this.file, { force: true });
  }
}

function listen(path: string, dir: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(new DataDirLockedError(`the data directory ${dir} is in use by another fw-server; stop it first, or give this one its own --data-dir (or --in-memory)`));
      } else reject(err);
    });
    server.listen(path, () => {
      server.unref(); // holding the lock must not keep the process alive
      resolve(server);
    });
  });
}

/** Whether a live process listens on a socket file. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
