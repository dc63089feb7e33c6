import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { eventually, spawnCommand, startServer, startWorker } from "./helpers/processes.js";

// Anything but printable text and newlines: ESC, C0 and C1 controls, DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** Runs fw, keeping its raw bytes (the line reader of the helpers would hide carriage returns). */
async function fwRaw(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCommand("fw", args);
  let stdout = "";
  let stderr = "";
  proc.child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  proc.child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

describe("fw prints what workers and submitters wrote without its terminal escapes", () => {
  it("strips escape sequences and control characters from names, hosts, errors, progress and results; --json stays exact", async () => {
    const server = await startServer();
    await startWorker(server.grpc, ["--tasks", "test/fixtures/hostile-tasks.mjs", "--name", "evil\x1b[2J\x1b]0;title\x07worker\x9b1m"]);
    const client = connect(server);
    const failed = await client.submit("hostile-fail", {});
    await expect(failed.result()).rejects.toThrow(/red alert/);
    const succeeded = await client.submit("hostile-result", {});
    expect(await succeeded.result()).toContain("\x1b]0;owned");
    const running = await client.submit("hostile-progress", { ms: 60_000 });
    await eventually(async () => ((await running.status()).progress?.message ? true : undefined), "the progress report");
    // A task name with an 8-bit CSI sequence (the control plane refuses C0 controls in names, not C1).
    await client.submit("queued\x9b2Jname", {});

    const fw = (...args: string[]) => fwRaw(["--server", server.grpc, ...args]);
    const outputs = {
      "status of the failed task": await fw("status", failed.id),
      "result of the failed task (the error line)": await fw("result", failed.id),
      "status of the task with a hostile result": await fw("status", succeeded.id),
      "result printed as text": await fw("result", succeeded.id),
      "status with hostile progress": await fw("status", running.id),
      "task listing": await fw("tasks"),
      "worker listing": await fw("workers"),
    };
    for (const [what, out] of Object.entries(outputs)) {
      expect(out.stdout + out.stderr, what).not.toMatch(CONTROL);
    }
    // The words themselves are still there, and the text result keeps its own line break.
    expect(outputs["result of the failed task (the error line)"]).toMatchObject({ code: 1, stderr: expect.stringMatching(/^fw: .*red alert/) });
    expect(outputs["result printed as text"].stdout).toBe("first line\nsecond line\n");
    expect(outputs["worker listing"].stdout).toMatch(/evilworker\s+active/);
    expect(outputs["status with hostile progress"].stdout).toMatch(/progress: .*halfway/);
    expect(outputs["task listing"].stdout).toMatch(/queuedname\s+queued/);

    // --json: the exact values, with every control character escaped.
    const json = await fw("--json", "result", succeeded.id);
    expect(json.stdout).not.toMatch(CONTROL);
    expect(JSON.parse(json.stdout).result).toBe(await succeeded.result());
    const workers = await fw("--json", "workers");
    expect(workers.stdout).not.toMatch(CONTROL);
    expect(JSON.parse(workers.stdout)[0].name).toBe("evil\x1b[2J\x1b]0;title\x07worker\x9b1m");
    await running.cancel();
  });
});
