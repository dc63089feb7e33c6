import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Client, TaskFailedError } from "../index.js";
import { eventually, runCli, startServer, startWorker } from "./helpers/processes.js";
import { connect } from "./helpers/clients.js";

let client: Client;
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const failure = (p: Promise<unknown>): Promise<TaskFailedError> =>
  p.then(
    () => expect.fail("the task should have failed"),
    (err: unknown) => {
      expect(err).toBeInstanceOf(TaskFailedError);
      return err as TaskFailedError;
    },
  );

describe("retries", () => {
  it("retries with exponential backoff and jitter, keeping every attempt's error", async () => {
    const server = await startServer(["--tasks", "test/fixtures/fault-tasks.mjs"]);
    client = connect(server);
    const initial = 200;
    const handle = await client.submit("flaky", { failures: 3 }, { retry: { maxAttempts: 4, initialBackoffMs: initial, multiplier: 2, maxBackoffMs: 10_000 } });
    expect(await handle.result()).toEqual({ attempt: 4 });
    const info = await handle.status();
    expect(info.attempts.map((a) => a.outcome)).toEqual(["failed", "failed", "failed", "succeeded"]);
    info.attempts.slice(0, 3).forEach((a, i) => {
      expect(a.error).toMatchObject({ message: `attempt ${i + 1} fails on purpose`, type: "Error", retryable: true });
      expect(a.error?.stack).toContain("fault-tasks.mjs");
    });
    // Recorded timestamps: the wait before attempt k+1 is between half and all of initial × 2^(k-1).
    // The lower bound is exact (the scheduler never runs early); the upper bound allows for a busy machine.
    for (let k = 1; k <= 3; k++) {
      const gap = info.attempts[k]!.dispatchedAt!.getTime() - info.attempts[k - 1]!.finishedAt!.getTime();
      const base = initial * 2 ** (k - 1);
      expect(gap, `backoff before attempt ${k + 1}`).toBeGreaterThanOrEqual(base / 2 - 2);
      expect(gap, `backoff before attempt ${k + 1}`).toBeLessThan(base + 1000);
    }
    expect((await client.stats()).totals.retried).toBe(3);
  });

  it("stops at once on a non-retryable error", async () => {
    const server = await startServer(["--tasks", "test/fixtures/fault-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("hopeless", {});
    const err = await failure(handle.result());
    expect(err.error).toMatchObject({ type: "NonRetryableError", message: "this input can never work", retryable: false });
    const info = await handle.status();
    expect(info.maxAttempts).toBe(5);
    expect(info.attempts).toHaveLength(1);
    // The handler awaits nothing, so its worker sent the result without an ack before it: the
    // result acknowledges the assignment, and the attempt still says when.
    const [attempt] = info.attempts;
    expect(attempt!.ackedAt).toBeInstanceOf(Date);
    expect(attempt!.ackedAt!.getTime()).toBeGreaterThanOrEqual(attempt!.dispatchedAt!.getTime());
  });

  it("keeps exhausted tasks as dead letters that `fw tasks --state failed` lists and `fw retry` revives", async () => {
    dir = mkdtempSync(join(tmpdir(), "fw-dead-"));
    const flag = join(dir, "fixed");
    const server = await startServer(["--tasks", "test/fixtures/fault-tasks.mjs"]);
    client = connect(server);
    const handle = await client.submit("gated", { flag });
    await failure(handle.result());
    const dead = await handle.status();
    expect(dead.state).toBe("failed");
    expect(dead.attempts.map((a) => a.error?.message)).toEqual([`waiting for ${flag}`, `waiting for ${flag}`]);

    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    const listed = await fw("--json", "tasks", "--state", "failed");
    expect(JSON.parse(listed.stdout)).toMatchObject({ total: 1, tasks: [{ id: handle.id, name: "gated", state: "failed" }] });

    writeFileSync(flag, "");
    const retried = await fw("retry", handle.id);
    expect(retried).toMatchObject({ code: 0, stdout: `${handle.id} queued` });
    expect(await handle.result()).toBe("revived");
    const revived = await handle.status();
    expect(revived.attempts.map((a) => a.outcome)).toEqual(["failed", "failed", "succeeded"]);

    expect(await fw("retry", handle.id)).toMatchObject({ code: 1, stderr: expect.stringContaining("only failed or cancelled tasks can be retried") });
  });
});

describe("timeouts and cancellation reach the handler", () => {
  // fw-worker, and the worker fw-server runs with --tasks (whose command is bundled: its worker must
  // still be the package's own modules, so the abort reason is the class the task module imported).
  it.each(["fw-worker", "fw-server --tasks"])("aborts the handler's signal when its timeout passes, and fails the attempt as timed out (%s)", async (runner) => {
    dir = mkdtempSync(join(tmpdir(), "fw-timeout-"));
    const env = { FW_TEST_LOG: dir };
    const embedded = runner === "fw-server --tasks";
    const server = await startServer(embedded ? ["--tasks", "test/fixtures/fault-tasks.mjs"] : [], embedded ? env : {});
    const worker = embedded ? server : await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs"], env);
    client = connect(server);
    const handle = await client.submit("cooperative", { ms: 60_000 }, { timeoutMs: 200 });
    const err = await failure(handle.result());
    expect(err.error).toMatchObject({ type: "TaskTimeoutError", message: "the attempt timed out after 0.2s" });
    expect((await handle.status()).attempts.map((a) => a.outcome)).toEqual(["timed_out"]);
    expect(readFileSync(join(dir, `${worker.pid}.log`), "utf8")).toContain(`aborted ${handle.id} 1 TaskTimeoutError same-class\n`);
  });

  it("reports a handler that ignores its aborted signal after the grace period, writing off its slot", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs", "--concurrency", "2", "--abort-grace", "0.2"]);
    client = connect(server);
    const handle = await client.submit("stubborn", { ms: 1500 }, { timeoutMs: 100 });
    const err = await failure(handle.result());
    expect(err.error.message).toBe("the attempt timed out after 0.1s; the handler did not stop within 0.2s of its abort signal, and still holds its slot");
    // The stuck handler still holds its slot until it returns: capacity shows it.
    await eventually(async () => ((await client.workers())[0]?.capacity === 1 ? true : undefined), "capacity to drop to 1");
    await eventually(async () => ((await client.workers())[0]?.capacity === 2 ? true : undefined), "capacity to come back when the handler returns", 10_000);
  });

  it("cancels a running task: CANCELLED at once, the handler's signal aborts, fw status shows it", async () => {
    dir = mkdtempSync(join(tmpdir(), "fw-cancel-"));
    const server = await startServer();
    const worker = await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs"], { FW_TEST_LOG: dir });
    client = connect(server);
    const handle = await client.submit("cooperative", { ms: 60_000 });
    await eventually(async () => ((await handle.status()).state === "running" ? true : undefined), "the task to run");

    const fw = (...args: string[]) => runCli(["--server", server.grpc, ...args]);
    expect(await fw("cancel", handle.id, "--reason", "changed my mind")).toMatchObject({ code: 0, stdout: `${handle.id} cancelled` });
    const err = await failure(handle.result());
    expect(err).toMatchObject({ state: "cancelled", error: { message: "changed my mind", type: "CancelledError" } });
    await eventually(async () => ((await handle.status()).attempts[0]?.outcome === "cancelled" ? true : undefined), "the worker to confirm the cancel");
    expect(readFileSync(join(dir, `${worker.pid}.log`), "utf8")).toContain(`aborted ${handle.id} 1 TaskCancelledError same-class\n`);
    expect((await fw("status", handle.id)).stdout).toContain("state:     cancelled (changed my mind)");
    // Cancelling again is a no-op; a finished task cannot be cancelled.
    expect((await fw("cancel", handle.id)).code).toBe(0);
    const done = await client.submit("flaky", { failures: 0 });
    await done.result();
    expect(await fw("cancel", done.id)).toMatchObject({ code: 1, stderr: expect.stringContaining("already succeeded; there is nothing to cancel (failed_precondition)") });
  });

  it("cancels queued and delayed tasks before they run", async () => {
    const server = await startServer();
    client = connect(server);
    const queued = await client.submit("record", { ms: 1 });
    const delayed = await client.submit("record", { ms: 1 }, { delayMs: 60_000 });
    expect((await client.getTask(delayed.id)).state).toBe("scheduled");
    await client.cancel(queued.id);
    await client.cancel(delayed.id);
    await startWorker(server.grpc, ["--tasks", "test/fixtures/fault-tasks.mjs"]);
    const after = await client.submit("record", { ms: 1 });
    await after.result();
    for (const h of [queued, delayed]) {
      const info = await h.status();
      expect(info.state).toBe("cancelled");
      expect(info.attempts).toHaveLength(0);
    }
  });
});
