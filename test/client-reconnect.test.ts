import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { connect } from "./helpers/clients.js";
import { startServer, startWorker, tempDataDir } from "./helpers/processes.js";

// The client's Session stream (client/session.ts) when its control plane dies under it: kill -9,
// then a new control plane on the same port and data directory (tasks survive), or none at all.

const TASKS = "test/fixtures/basic-tasks.mjs";

/** fw-server flags: one data directory per test, kept across the restart; the same port the second time. */
const serverArgs = (dataDir: string, port?: string): string[] => ["--data-dir", dataDir, ...(port === undefined ? [] : ["--port", port])];

type Settled<T> = { value: T } | { err: unknown };

/** How a promise ends, watched from now on (a rejection before the test looks is then not "unhandled"). */
function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
}

/** The ConnectError it ended with; fails the test if it resolved. */
function failure(outcome: Settled<unknown>): ConnectError {
  if (!("err" in outcome)) expect.fail(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.err).toBeInstanceOf(ConnectError);
  return outcome.err as ConnectError;
}

describe("client session across a control-plane crash", () => {
  // Each case leaves one reason to reopen the session, so the reopen budget (MAX_REOPENS, about 13 s of
  // backoff) is not shared by several retry chains while the control plane restarts.

  it("sends submissions made while the control plane is down once it is back, keyed or not (nothing could have taken them)", async () => {
    const dataDir = tempDataDir();
    const first = await startServer(serverArgs(dataDir));
    const port = first.grpc.split(":").pop()!;
    // Not following results: before the kill the open session waits for nothing.
    const client = connect(first, { followResults: false });
    expect(await client.submit("add", { a: 0, b: 1 })).toMatchObject({ deduplicated: false });

    expect(await first.stop("SIGKILL")).toMatchObject({ signal: "SIGKILL" });
    // Submitted while nothing listens: no connection is made, so the client knows none was taken and keeps them.
    const keyed = settled(client.submit("add", { a: 20, b: 22 }, { key: "resent-after-restart" }));
    const unkeyed = settled(client.submit("add", { a: 1, b: 2 }));

    const second = await startServer(serverArgs(dataDir, port));
    expect(second.grpc).toBe(first.grpc);
    // Both go out on the new session and are taken once.
    const [resent, plain] = await Promise.all([keyed, unkeyed]);
    if (!("value" in resent)) throw resent.err;
    if (!("value" in plain)) throw plain.err;
    expect(resent.value.deduplicated).toBe(false);
    const listed = await client.listTasks({ task: "add" });
    // Three tasks: the one accepted before the kill survived it, and the two sent after.
    expect(listed.tasks.map((t) => t.id)).toEqual(expect.arrayContaining([resent.value.id, plain.value.id]));
    expect(listed.total).toBe(3);
    await startWorker(second.grpc, ["--tasks", TASKS]);
    expect(await resent.value.result()).toBe(42);
    expect(await plain.value.result()).toBe(3);
  });

  it("follows a waited-for task again on the new session: its result() resolves after the restart", async () => {
    // No worker: the task stays queued, so the kill catches it unfinished.
    const dataDir = tempDataDir();
    const first = await startServer(serverArgs(dataDir));
    const port = first.grpc.split(":").pop()!;
    const client = connect(first);
    const before = await client.submit("add", { a: 3, b: 4 });
    const followed = settled(before.result()); // waiting on the Session stream when the control plane dies

    expect(await first.stop("SIGKILL")).toMatchObject({ signal: "SIGKILL" });
    const second = await startServer(serverArgs(dataDir, port));
    await startWorker(second.grpc, ["--tasks", TASKS]);
    expect(await followed).toEqual({ value: 7 });
    // The same client goes on working with the new control plane.
    expect(await client.run("add", { a: 2, b: 3 })).toBe(5);
  });

  it("gives up reconnecting when the control plane never comes back, failing what waits with UNAVAILABLE", async () => {
    const server = await startServer(serverArgs(tempDataDir()));
    const client = connect(server);
    const queued = await client.submit("add", { a: 1, b: 1 }); // no worker: it waits
    const followed = settled(queued.result());

    expect(await server.stop("SIGKILL")).toMatchObject({ signal: "SIGKILL" });
    const keyed = settled(client.submit("add", { a: 5, b: 5 }, { key: "never-accepted" }));

    // The session reopens with backoff, then fails everything it holds with the last error.
    const [lost, unsent] = (await Promise.all([followed, keyed])).map(failure);
    for (const err of [lost!, unsent!]) {
      expect(err.code).toBe(Code.Unavailable);
      expect(err.rawMessage).toContain(`ECONNREFUSED ${server.grpc}`);
    }
    // A submission after giving up is tried afresh (and fails at once: nothing listens).
    expect(failure(await settled(client.submit("add", { a: 0, b: 0 }))).code).toBe(Code.Unavailable);
  });
});
