#!/usr/bin/env node
// How long a control plane takes to start on a data directory holding N retained tasks (results
// kept for the TTL), and its memory then. The state is written through the store itself (as a
// control plane would, in batches), then `fw-server --data-dir` is started and timed to its ready line.
//   npm run build && node bench/durability/recovery.mjs [N=1000000]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { LmdbLog } from "../../dist/server/store/lmdb-log.js";
import { NO_OPTIONS, TaskRecord } from "../../dist/server/store/task-record.js";
import { TaskStore } from "../../dist/server/store/task-store.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "fw-recovery-"));
const options = { resultTtlMs: 24 * 3600_000, maxResults: N * 2 };
try {
  let started = performance.now();
  const { store } = await TaskStore.open({ ...options, log: LmdbLog.open(dir) });
  const now = Date.now();
  for (let i = 0; i < N; i += 10_000) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 10_000); j++) {
      const task = new TaskRecord(`r${String(j).padStart(16, "0")}`, "noop", 3, `{"i":${j}}`, now, j + 1, NO_OPTIONS);
      store.insert(task);
      batch.push(task);
    }
    for (const task of batch) {
      const taken = store.takeNext(["noop"]);
      const attempt = store.startAttempt(taken, "w", "worker-1", now);
      store.endAttempt(attempt, 1, now);
      store.finish(taken, 4, now, { resultJson: String(j(task)) });
    }
    await store.commit();
    if ((i / 10_000) % 20 === 0) process.stderr.write(`writing: ${i + batch.length} of ${N}\n`);
  }
  await store.close();
  const writeSeconds = (performance.now() - started) / 1000;
  const bytes = statSync(join(dir, "data.mdb")).size;

  started = performance.now();
  const server = spawn(process.execPath, [join(root, "dist/bin/fw-server.js"), "--data-dir", dir, "--port", "0", "--http-port", "0", "--no-discovery", "--max-results", String(N * 2), "--result-ttl", "86400", "--log-level", "warn"], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).on("line", (line) => line.startsWith("fw-server ready") && resolve(line));
    server.on("exit", (code) => reject(new Error(`fw-server exited ${code}`)));
  });
  const recoverySeconds = (performance.now() - started) / 1000;
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]) / 1024;
  server.kill("SIGTERM");
  console.log(`${N.toLocaleString("en")} retained tasks: written in ${writeSeconds.toFixed(1)} s (${(bytes / 1024 / 1024).toFixed(0)} MiB on disk); ` +
    `fw-server ready after ${recoverySeconds.toFixed(1)} s, RSS then ${rssMiB.toFixed(0)} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function j(task) {
  return JSON.parse(task.argsJson).i;
}
