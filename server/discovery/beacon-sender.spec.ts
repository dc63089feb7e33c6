import { afterEach, describe, expect, it } from "vitest";
import { BeaconListener, type HeardBeacon } from "../../common/discovery/beacon-listener.js";
import { silentLogger } from "../../common/logger.js";
import { freeUdpPort, randomCluster } from "../../test/helpers/udp.js";
import { BeaconSender, type BeaconSenderOptions } from "./beacon-sender.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(overrides: Partial<BeaconSenderOptions> = {}, listenerToken?: string) {
  const cluster = randomCluster();
  const port = await freeUdpPort();
  const listener = await new BeaconListener({ cluster, port, token: listenerToken }).start();
  cleanup.push(() => listener.stop());
  const sender = new BeaconSender({
    cluster,
    version: "0.1.0",
    host: "127.0.0.1",
    grpcPort: 41000,
    httpPort: 41001,
    port,
    targets: [],
    // Long enough that only runOnce() (and the first beacon on start) sends in these tests.
    intervalMs: 3_600_000,
    logger: silentLogger(),
    ...overrides,
  });
  cleanup.push(() => sender.stop());
  return { cluster, port, listener, sender };
}

describe("BeaconSender", () => {
  it("sends a first beacon as soon as it starts, then one per route each runOnce", async () => {
    const { cluster, port, listener, sender } = await setup({ tokens: ["s3cret-s3cret-s3cret"] }, "s3cret-s3cret-s3cret");
    const first = listener.next();
    sender.start();
    const heard: HeardBeacon = await first;
    expect(heard).toMatchObject({
      beacon: { cluster, grpc: "127.0.0.1:41000", http: "http://127.0.0.1:41001", version: "0.1.0" },
      verified: true,
      port,
    });
    const second = listener.next();
    expect(sender.runOnce(Date.now())).toBe(1);
    expect((await second).beacon.nonce).not.toBe(heard.beacon.nonce);
  });

  it("with several tokens, signs one copy per token, so a listener holding any one of them hears it; says when TLS is on", async () => {
    const tokens = ["worker-secret-0123456789", "client-secret-0123456789"];
    const { listener: workerSide, sender, cluster, port } = await setup({ tokens, tls: true }, tokens[0]);
    const clientSide = await new BeaconListener({ cluster, port, token: tokens[1] }).start();
    cleanup.push(() => clientSide.stop());
    const heard = Promise.all([workerSide.next(), clientSide.next()]);
    sender.start();
    for (const h of await heard) {
      expect(h).toMatchObject({ verified: true, beacon: { tls: true, http: "https://127.0.0.1:41001", grpc: "127.0.0.1:41000" } });
    }
    expect(sender.runOnce(Date.now())).toBe(2);
    // Each listener drops the copy signed for the other token: counted, but expected (no warning).
    await new Promise((r) => setImmediate(r));
  });

  it("bound to all interfaces, announces this machine's address on each subnet, never 0.0.0.0", async () => {
    const { listener, sender } = await setup({
      host: "0.0.0.0",
      // Only loopback, so the test sends nowhere else.
      interfaces: () => ({ lo: [{ address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" }] }),
    });
    expect(sender.currentRoutes).toEqual([{ target: "127.255.255.255", announce: "127.0.0.1" }]);
    const first = listener.next();
    sender.start();
    expect((await first).beacon.grpc).toBe("127.0.0.1:41000");
  });

  it("refuses settings it cannot honour, with the flag in the message", async () => {
    const base = { cluster: "c", version: "1", host: "127.0.0.1", grpcPort: 1, httpPort: 2, port: 50051, targets: [], intervalMs: 1000, logger: silentLogger() };
    expect(() => new BeaconSender({ ...base, port: 0 })).toThrow(/--beacon-port/);
    expect(() => new BeaconSender({ ...base, intervalMs: 0 })).toThrow(/--beacon-interval/);
    expect(() => new BeaconSender({ ...base, cluster: "no spaces" })).toThrow(/cluster name/);
    expect(() => new BeaconSender({ ...base, targets: ["not-an-ip"] })).toThrow(/--beacon-addr/);
  });

  it("runOnce before start, or after stop, sends nothing", async () => {
    const { sender } = await setup();
    expect(sender.runOnce(Date.now())).toBe(0);
    sender.start();
    sender.stop();
    expect(sender.runOnce(Date.now())).toBe(0);
  });
});
