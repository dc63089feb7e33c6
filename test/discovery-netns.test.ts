import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createPrivateLan, leftoverNamespaces } from "./helpers/netns.js";
import { runCli, startServer, startWorker, type Proc } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";
import { randomCluster } from "./helpers/udp.js";

const TASKS = "test/fixtures/basic-tasks.mjs";

/** The JSON log line's fields. */
const fields = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

describe.skipIf(missing("netns"))("discovery across hosts (private network namespaces, real subnet broadcast)", () => {
  it("a worker on host B finds the control plane on host A by broadcast, serves a CLI on host C, and follows the control plane to host C", async () => {
    const lan = createPrivateLan(3);
    const procs: Proc[] = [];
    const timings: string[] = [];
    try {
      const [a, b, c] = lan.hosts as [(typeof lan.hosts)[0], (typeof lan.hosts)[0], (typeof lan.hosts)[0]];
      // The namespaces are this test's own network, so the default beacon port (50051) and targets are used.
      const common = ["--cluster", randomCluster("lan"), "--token", randomBytes(8).toString("hex")];

      // Host A: bound to all interfaces; beacons go to each subnet's broadcast, announcing A's address there.
      const first = await startServer(["--host", "0.0.0.0", ...common], {}, { netns: a.ns });
      procs.push(first);
      const firstPort = first.grpc.split(":").pop()!;
      const announcing = fields(await first.waitForLine("announcing cluster"));
      expect(announcing.routes).toEqual([
        { target: "127.255.255.255", announce: "127.0.0.1" },
        { target: lan.broadcast, announce: a.address },
      ]);

      // Host B: a worker given no address.
      const worker = await startWorker(null, ["--tasks", TASKS, "--name", "worker-on-b", ...common], {}, { netns: b.ns });
      procs.push(worker);
      expect(await worker.waitForLine(/^fw-worker ready /)).toContain(`server=${a.address}:${firstPort} `);
      const found = fields(await worker.waitForLine("found control plane")).msg as string;
      expect(found).toMatch(new RegExp(`^found control plane ${a.address}:${firstPort} \\(cluster lan-\\w+, version 0\\.1\\.0\\) by signed beacon from ${a.address} on udp/50051 after \\d+\\.\\ds$`));
      timings.push(`worker on B: ${found.split(" after ")[1]}`);

      // Host C: the CLI, no address; host A runs no tasks, so the worker on B is the one that answers.
      const ran = await runCli([...common, "--json", "submit", "whoami", "--args", "{}", "--wait"], {}, { netns: c.ns });
      expect(ran.code, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toMatchObject({ result: { pid: worker.pid } });
      expect(ran.stderr).toContain(`found control plane ${a.address}:${firstPort}`);
      expect(ran.stderr).toContain(`by signed beacon from ${a.address} on udp/50051`);
      timings.push(`CLI on C: ${ran.stderr.split(" after ")[1]}`);

      // The control plane moves to host C, bound to its one address: the worker follows the next beacon.
      expect(await first.stop()).toMatchObject({ code: 0 });
      const second = await startServer(["--host", c.address, ...common], {}, { netns: c.ns });
      procs.push(second);
      const announced = fields(await second.waitForLine("announcing cluster"));
      expect(announced.routes).toEqual([{ target: lan.broadcast, announce: c.address }]);
      const followed = fields(await worker.waitForLine(`following the control plane to ${second.grpc}`));
      const following = followed.msg as string;
      timings.push(`worker following to C: ${(((followed.time as number) - (announced.time as number)) / 1000).toFixed(1)}s after C's first beacon`);
      expect(following).toContain(`beacon from ${c.address} on udp/50051`);
      expect(following).toContain(`it was at ${a.address}:${firstPort}`);

      // A CLI on host A now reaches the control plane on C, and the task runs on B.
      const again = await runCli([...common, "submit", "add", "--args", '{"a":40,"b":2}', "--wait"], {}, { netns: a.ns });
      expect(again).toMatchObject({ code: 0, stdout: "42" });
      expect(again.stderr).toContain(`found control plane ${second.grpc}`);
      timings.push(`CLI on A after the move: ${again.stderr.split(" after ")[1]}`);
      expect(worker.running).toBe(true);
      console.log(`discovery times across namespaces (default 2s beacon interval): ${timings.join(", ")}`);
    } finally {
      // Processes first (a namespace lives on while something runs in it), then the namespaces.
      await Promise.all(procs.map((p) => p.stop()));
      lan.destroy();
      expect(leftoverNamespaces(lan)).toEqual([]);
    }
  });
});
