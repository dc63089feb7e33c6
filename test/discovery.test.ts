import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Client, describeDiscovery } from "../index.js";
import { beaconKey, encodeBeacon, newNonce, type Beacon } from "../common/discovery/beacon.js";
import { runCli, spawnCommand, startServer, startWorker, type Proc } from "./helpers/processes.js";
import { freeUdpPort, randomCluster, sendToLoopback } from "./helpers/udp.js";

const TASKS = "test/fixtures/basic-tasks.mjs";

let clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

/** "found control plane … after 1.2s" lines, for the timing summary printed at the end. */
const timings: { who: string; seconds: number }[] = [];
const foundAfter = (who: string, line: string): void => {
  const match = /after (\d+\.\d)s/.exec(line);
  if (match) timings.push({ who, seconds: Number(match[1]) });
};
afterAll(() => {
  if (timings.length === 0) return;
  const list = timings.map((t) => `${t.who} ${t.seconds.toFixed(1)}s`).join(", ");
  console.log(`discovery times (loopback, default 2s beacon interval unless noted): ${list}`);
});

/** A worker with no --server, waiting until it is ready; returns it with its ready line. */
async function discoveringWorker(args: readonly string[]): Promise<{ worker: Proc; ready: string }> {
  const worker = await startWorker(null, ["--tasks", TASKS, ...args]);
  return { worker, ready: await worker.waitForLine(/^fw-worker ready /) };
}

const beacon = (cluster: string, overrides: Partial<Beacon> = {}): Beacon => ({
  cluster,
  grpc: "127.0.0.1:1",
  http: "http://127.0.0.1:2",
  version: "0.1.0",
  ts: Date.now(),
  nonce: newNonce(),
  ...overrides,
});

describe("discovery on one host (loopback beacons)", () => {
  it("finds a control plane at once by probe, long before its next beacon", async () => {
    const cluster = randomCluster();
    const port = String(await freeUdpPort());
    const flags = ["--cluster", cluster, "--beacon-port", port];
    // A beacon every 60 s: only the probe can make the CLI find it in time.
    const server = await startServer([...flags, "--beacon-interval", "60", "--tasks", TASKS]);
    // Its first beacon went out when it started, before the CLI listened; the next is a minute away,
    // and the CLI gives up after 5 s: finding it proves the probe.
    const stats = await runCli(["stats", "--json", ...flags, "--discovery-timeout", "5"]);
    expect(stats.code, stats.stderr).toBe(0);
    const found = stats.stderr.split("\n").find((l) => l.includes("found control plane"))!;
    expect(found).toContain(`found control plane ${server.grpc}`);
    foundAfter("fw (probe, 60s beacon interval)", found);
  });

  it("a control plane, two workers and the CLI find each other with no addresses given", async () => {
    const cluster = randomCluster();
    const port = String(await freeUdpPort());
    const flags = ["--cluster", cluster, "--beacon-port", port];

    // Workers first: they wait, saying so, until the control plane announces itself.
    const workers = [1, 2].map((n) => spawnCommand("fw-worker", ["--tasks", TASKS, "--name", `w${n}`, ...flags]));
    for (const w of workers) await w.waitForLine(`listening for beacons on udp/${port}`);
    const server = await startServer(flags);
    for (const w of workers) {
      expect(await w.waitForLine(/^fw-worker ready /)).toContain(`server=${server.grpc} `);
      const found = await w.waitForLine("found control plane");
      expect(found).toContain(`found control plane ${server.grpc} (cluster ${cluster}, version 0.1.0) by beacon from 127.0.0.1 on udp/${port} after`);
      foundAfter("worker started before the server", found);
    }

    // The CLI, started after the server: it waits for the next beacon.
    const submitted = await runCli([...flags, "submit", "add", "--args", '{"a":1,"b":2}', "--wait"]);
    expect(submitted).toMatchObject({ code: 0, stdout: "3" });
    expect(submitted.stderr).toMatch(new RegExp(`^fw: found control plane ${server.grpc.replace(/\./g, "\\.")} \\(cluster ${cluster}, version 0\\.1\\.0\\) by beacon from 127\\.0\\.0\\.1 on udp/${port} after \\d+\\.\\ds$`));
    foundAfter("fw CLI", submitted.stderr);
    const listed = await runCli([...flags, "--json", "workers"]);
    expect(JSON.parse(listed.stdout).map((w: { name: string }) => w.name).sort()).toEqual(["w1", "w2"]);

    // A third worker, started after the server.
    const late = await discoveringWorker(flags);
    expect(late.ready).toContain(`server=${server.grpc} `);
    foundAfter("worker started after the server", await late.worker.waitForLine("found control plane"));

    // The library.
    const client = await Client.discover({ cluster, port: Number(port), timeoutMs: 20_000 });
    clients.push(client);
    expect(client.server).toBe(server.grpc);
    expect(describeDiscovery(client.discovery!)).toContain(`found control plane ${server.grpc}`);
    foundAfter("Client.discover", describeDiscovery(client.discovery!));
    expect(await client.run("add", { a: 20, b: 22 })).toBe(42);
    // An explicit address wins: no discovery.
    const explicit = await Client.discover({ server: server.grpc });
    clients.push(explicit);
    expect(explicit.discovery).toBeUndefined();
  });

  it("ignores beacons of another cluster, and says so when it gives up", async () => {
    const port = String(await freeUdpPort());
    const ours = randomCluster("ours");
    const theirs = randomCluster("theirs");
    await startServer(["--cluster", theirs, "--beacon-port", port, "--beacon-interval", "0.2"]);

    const worker = spawnCommand("fw-worker", ["--tasks", TASKS, "--cluster", ours, "--beacon-port", port, "--discovery-timeout", "3", "--log-level", "debug"]);
    await worker.waitForLine(`ignored a beacon of cluster ${theirs}`);
    expect(await worker.exited).toMatchObject({ code: 1 });
    const error = worker.stderr.at(-1)!;
    expect(error).toMatch(new RegExp(`^fw-worker: no control plane of cluster ${ours} found: listened for beacons on udp/${port} for 3\\.0s and heard none of it \\(ignored \\d+ beacons? of other clusters \\(${theirs}: is --cluster right\\?\\)\\)\\. Check that fw-server runs with --cluster ${ours}`));
    expect(worker.stdout.join("\n")).not.toContain("fw-worker ready");

    const cli = await runCli(["--cluster", ours, "--beacon-port", port, "--discovery-timeout", "1", "stats"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr.split("\n")).toHaveLength(1);
    expect(cli.stderr).toMatch(new RegExp(`^fw: no control plane of cluster ${ours} found: listened for beacons on udp/${port} for 1\\.0s.*\\(unavailable\\)$`));
    // The beacons were there all along, for the right cluster.
    expect((await runCli(["--cluster", theirs, "--beacon-port", port, "stats"])).code).toBe(0);
  });

  it("with a token, drops unsigned, forged, stale and garbage datagrams, survives them, and joins the real control plane", async () => {
    const cluster = randomCluster();
    const port = await freeUdpPort();
    const flags = ["--cluster", cluster, "--beacon-port", String(port)];
    const worker = spawnCommand("fw-worker", ["--tasks", TASKS, ...flags, "--token", "s3cret-0123456789abcdef", "--log-level", "debug"]);
    await worker.waitForLine(`listening for beacons on udp/${port}`);

    // Each of these points at a trap address; a worker that believed one would say "found control plane 127.0.0.1:1".
    const key = beaconKey("s3cret-0123456789abcdef");
    const real = encodeBeacon(beacon(cluster), key);
    const futureVersion = encodeBeacon(beacon(cluster), key);
    futureVersion[2] = 9;
    const attacks: [string, Buffer[]][] = [
      ["unsigned", [encodeBeacon(beacon(cluster))]],
      ["bad-signature", [encodeBeacon(beacon(cluster), beaconKey("guess-0123456789abcdef")), real.subarray(0, real.length - 3)]],
      ["stale", [encodeBeacon(beacon(cluster, { ts: Date.now() - 5 * 60_000 }), key), encodeBeacon(beacon(cluster, { ts: Date.now() + 5 * 60_000 }), key)]],
      ["unsupported-version", [futureVersion]],
      ["malformed", [...Array.from({ length: 50 }, () => randomBytes(1 + Math.floor(Math.random() * 1400))), Buffer.alloc(60_000, 1), real.subarray(0, 10), Buffer.alloc(0)]],
    ];
    for (const [reason, datagrams] of attacks) {
      await sendToLoopback(port, datagrams);
      await worker.waitForLine(`"reason":"${reason}"`);
    }
    expect(worker.running).toBe(true);

    // The real control plane, signing with the same token: the worker joins it.
    const server = await startServer([...flags, "--token", "s3cret-0123456789abcdef", "--beacon-interval", "0.25"]);
    expect(await worker.waitForLine(/^fw-worker ready /)).toContain(`server=${server.grpc} `);
    const found = await worker.waitForLine("found control plane");
    expect(found).toContain(`found control plane ${server.grpc} (cluster ${cluster}, version 0.1.0) by signed beacon`);
    foundAfter("worker with a token (0.25s interval)", found);
    expect(worker.stderr.join("\n")).not.toContain("found control plane 127.0.0.1:1 ");

    // The CLI: the wrong token's check fails on the beacon itself; the right one works.
    const wrong = await runCli([...flags, "--token", "guess-0123456789abcdef", "--discovery-timeout", "3", "stats"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^fw: no control plane of cluster .*rejected \d+ beacons? with a signature that does not match \(is --token the control plane's\?\).*\(unavailable\)$/);
    expect(await runCli([...flags, "submit", "add", "--args", '{"a":2,"b":3}', "--wait"], { FW_TOKEN: "s3cret-0123456789abcdef" })).toMatchObject({ code: 0, stdout: "5" });
    // No token at all: the signed beacon still says where, and the control plane says what is missing.
    const anonymous = await runCli([...flags, "stats"]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain("(unauthenticated)");
  });

  it("a worker follows its control plane when it comes back on another port", async () => {
    const cluster = randomCluster();
    const port = String(await freeUdpPort());
    const flags = ["--cluster", cluster, "--beacon-port", port];
    const first = await startServer(flags);
    const { worker, ready } = await discoveringWorker(flags);
    expect(ready).toContain(`server=${first.grpc} `);
    expect(await first.stop()).toMatchObject({ code: 0 });

    const second = await startServer(flags);
    expect(second.grpc).not.toBe(first.grpc);
    const announced = JSON.parse(await second.waitForLine("announcing cluster")) as { time: number };
    const following = await worker.waitForLine(`following the control plane to ${second.grpc}`);
    expect(following).toContain(`it was at ${first.grpc}`);
    timings.push({ who: "worker following to the new port (after its first beacon)", seconds: ((JSON.parse(following) as { time: number }).time - announced.time) / 1000 });
    // The second control plane runs no tasks itself: the result proves the worker serves it.
    expect(await runCli([...flags, "submit", "add", "--args", '{"a":40,"b":2}', "--wait"])).toMatchObject({ code: 0, stdout: "42" });
    expect(worker.running).toBe(true);
  });
});
