import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { freeUdpPort, randomCluster, sendToLoopback } from "../../test/helpers/udp.js";
import { beaconKey, encodeBeacon, newNonce, type Beacon } from "./beacon.js";
import { BeaconListener } from "./beacon-listener.js";
import { discoverControlPlane, describeDiscovery } from "./discover.js";

const started: BeaconListener[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((l) => l.stop()));
});

const listen = async (options: ConstructorParameters<typeof BeaconListener>[0]): Promise<BeaconListener> => {
  const listener = new BeaconListener(options);
  started.push(listener);
  return await listener.start();
};

const beacon = (cluster: string, overrides: Partial<Beacon> = {}): Beacon => ({
  cluster,
  grpc: "127.0.0.1:50051",
  http: "http://127.0.0.1:8000",
  version: "0.1.0",
  ts: Date.now(),
  nonce: newNonce(),
  ...overrides,
});
const from = { address: "127.0.0.1", port: 40000 };

describe("BeaconListener", () => {
  it("accepts a signed beacon of its cluster once; counts every other datagram by reason", () => {
    const cluster = randomCluster();
    const key = beaconKey("s3cret-0123456789abcdef");
    const listener = new BeaconListener({ cluster, token: "s3cret-0123456789abcdef", port: 1 });
    const now = Date.now();
    const good = encodeBeacon(beacon(cluster, { ts: now }), key);

    expect(listener.receive(good, from, now)).toMatchObject({ beacon: { cluster }, from: "127.0.0.1", verified: true });
    expect(listener.receive(good, from, now + 1)).toBeUndefined(); // replayed
    expect(listener.receive(encodeBeacon(beacon(cluster, { ts: now - 60_000 }), key), from, now)).toBeUndefined(); // stale
    expect(listener.receive(encodeBeacon(beacon(cluster, { ts: now + 60_000 }), key), from, now)).toBeUndefined(); // from the future
    expect(listener.receive(encodeBeacon(beacon(cluster)), from, now)).toBeUndefined(); // unsigned
    expect(listener.receive(encodeBeacon(beacon(cluster), beaconKey("guess-0123456789abcdef")), from, now)).toBeUndefined(); // forged
    expect(listener.receive(encodeBeacon(beacon("elsewhere"), key), from, now)).toBeUndefined(); // other cluster
    expect(listener.receive(randomBytes(300), from, now)).toBeUndefined();
    expect(listener.receive(good.subarray(0, 20), from, now)).toBeUndefined();

    expect(listener.counters).toEqual({
      accepted: 1,
      otherCluster: 1,
      rejected: { malformed: 2, "unsupported-version": 0, unsigned: 1, "bad-signature": 1, stale: 2, replayed: 1 },
    });
    expect(listener.summary()).toContain("ignored 1 beacon of other clusters (elsewhere");
    expect(listener.summary()).toContain("1 beacon with a signature that does not match (is --token the control plane's?)");
    expect(listener.summary()).toContain("2 beacons stale or from the future");
  });

  it("several listeners on one host and port all hear one broadcast", async () => {
    const cluster = randomCluster();
    const port = await freeUdpPort();
    const listeners = await Promise.all([1, 2, 3].map(() => listen({ cluster, port })));
    const heard = Promise.all(listeners.map((l) => l.next()));
    await sendToLoopback(port, [encodeBeacon(beacon(cluster))]);
    const beacons = await heard;
    expect(new Set(beacons.map((b) => b.beacon.nonce)).size).toBe(1);
    expect(beacons.every((b) => b.port === port && b.from === "127.0.0.1")).toBe(true);
  });

  it("a flood of garbage (random, huge, truncated) neither crashes it nor hides the real beacon", async () => {
    const cluster = randomCluster();
    const port = await freeUdpPort();
    const listener = await listen({ cluster, port, token: "t0ken-0123456789abcdef" });
    const real = encodeBeacon(beacon(cluster), beaconKey("t0ken-0123456789abcdef")); // only its truncations are sent
    const garbage = [
      ...Array.from({ length: 300 }, () => randomBytes(1 + Math.floor(Math.random() * 1500))),
      Buffer.alloc(60_000, 0x7b),
      ...Array.from({ length: real.length - 1 }, (_, n) => real.subarray(0, n + 1)),
      Buffer.alloc(1),
    ];
    const dropped = (): number => Object.values(listener.counters.rejected).reduce((a, b) => a + b, 0);
    // In chunks small enough for the socket buffer, each counted before the next goes out.
    for (let i = 0; i < garbage.length; i += 20) {
      await sendToLoopback(port, garbage.slice(i, i + 20));
      const sent = Math.min(i + 20, garbage.length);
      for (let waited = 0; dropped() < sent; waited += 5) {
        if (waited > 10_000) expect.fail(`only ${dropped()} of ${sent} datagrams were counted`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(dropped()).toBe(garbage.length);
    expect(listener.counters.rejected["bad-signature"]).toBe(real.length - 36 - 1); // truncated inside the signed body
    expect(listener.counters.accepted).toBe(0);

    const next = listener.next();
    await sendToLoopback(port, [encodeBeacon(beacon(cluster), beaconKey("t0ken-0123456789abcdef"))]);
    expect((await next).verified).toBe(true);
  });

  it("discoverControlPlane answers the announced address and says how it was found", async () => {
    const cluster = randomCluster();
    const port = await freeUdpPort();
    const progress: string[] = [];
    const discovering = discoverControlPlane({ cluster, port, timeoutMs: 20_000, onProgress: (line) => progress.push(line) });
    // Send until it is heard: discovery may not be listening yet when the first one goes out.
    const sender = setInterval(() => void sendToLoopback(port, [encodeBeacon(beacon(cluster, { grpc: "127.0.0.7:4242", ts: Date.now() }))]), 50);
    try {
      const found = await discovering;
      expect(found.address).toBe("127.0.0.7:4242");
      expect(describeDiscovery(found)).toMatch(new RegExp(`^found control plane 127\\.0\\.0\\.7:4242 \\(cluster ${cluster}, version 0\\.1\\.0\\) by beacon from 127\\.0\\.0\\.1 on udp/${port} after \\d+\\.\\ds$`));
      expect(progress[0]).toBe(`looking for the control plane of cluster ${cluster}: listening for beacons on udp/${port}`);
    } finally {
      clearInterval(sender);
    }
  });

  it("discoverControlPlane times out with UNAVAILABLE naming the port and what it heard", async () => {
    const port = await freeUdpPort();
    const cluster = randomCluster();
    const other = await listen({ cluster, port }); // proves the beacon below was sent
    const heard = once(other, "beacon");
    const discovering = discoverControlPlane({ cluster: "nobody-here", port, timeoutMs: 1500 });
    const rejection = expect(discovering).rejects.toMatchObject({
      code: 14,
      rawMessage: expect.stringMatching(new RegExp(`^no control plane of cluster nobody-here found: listened for beacons on udp/${port} for 1\\.5s`)),
    });
    await sendToLoopback(port, [encodeBeacon(beacon(cluster))]);
    await heard;
    await rejection;
    await expect(discovering).rejects.toMatchObject({ rawMessage: expect.stringContaining(`--server HOST:PORT`) });
  });
});
