import { afterEach, describe, expect, it } from "vitest";
import { beaconKey, encodeBeacon, newNonce } from "./beacon.js";
import { silentLogger } from "../logger.js";
import { freeUdpPort, randomCluster, sendToLoopback } from "../../test/helpers/udp.js";
import { BeaconLocator, fixedServer, parseServers, ServerList } from "./server-locator.js";

const locators: BeaconLocator[] = [];
afterEach(async () => {
  await Promise.all(locators.splice(0).map((l) => l.close()));
});

const datagram = (cluster: string, grpc: string, token?: string): Buffer =>
  encodeBeacon({ cluster, grpc, http: "http://127.0.0.1:8000", version: "0.1.0", ts: Date.now(), nonce: newNonce() }, token ? beaconKey(token) : undefined);

/** Sends `grpc`'s beacon every 50 ms until `until` settles (the locator may not be listening yet). */
async function announceUntil<T>(port: number, cluster: string, grpc: string, until: Promise<T>, token?: string): Promise<T> {
  const timer = setInterval(() => void sendToLoopback(port, [datagram(cluster, grpc, token)]), 50);
  try {
    return await until;
  } finally {
    clearInterval(timer);
  }
}

describe("server locators", () => {
  it("a fixed server is what it was given", async () => {
    expect(await fixedServer("10.0.0.1:1").resolve(new AbortController().signal)).toBe("10.0.0.1:1");
  });

  it("follows the newest beacon of its cluster, signed with its token", async () => {
    const cluster = randomCluster();
    const port = await freeUdpPort();
    const locator = new BeaconLocator({ cluster, port, token: "t0ken-0123456789abcdef", logger: silentLogger() });
    locators.push(locator);
    const stop = new AbortController().signal;
    expect(await announceUntil(port, cluster, "127.0.0.1:1111", locator.resolve(stop), "t0ken-0123456789abcdef")).toBe("127.0.0.1:1111");
    // Forged and other-cluster beacons change nothing.
    await sendToLoopback(port, [datagram(cluster, "127.0.0.9:9", "guess-0123456789abcdef"), datagram(cluster, "127.0.0.9:9"), datagram("other", "127.0.0.9:9", "t0ken-0123456789abcdef")]);
    expect(await locator.resolve(stop)).toBe("127.0.0.1:1111");
    // The control plane moved: the next valid beacon is followed.
    const moved = (async () => {
      for (;;) {
        const address = await locator.resolve(stop);
        if (address !== "127.0.0.1:1111") return address;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    expect(await announceUntil(port, cluster, "127.0.0.2:2222", moved, "t0ken-0123456789abcdef")).toBe("127.0.0.2:2222");
  });

  it("gives up on the first resolve after timeoutMs, naming the port", async () => {
    const port = await freeUdpPort();
    const locator = new BeaconLocator({ cluster: randomCluster(), port, timeoutMs: 300, logger: silentLogger() });
    locators.push(locator);
    await expect(locator.resolve(new AbortController().signal)).rejects.toMatchObject({ code: 14, rawMessage: expect.stringContaining(`udp/${port}`) });
  });

  it("stops waiting when the worker stops", async () => {
    const locator = new BeaconLocator({ cluster: randomCluster(), port: await freeUdpPort(), logger: silentLogger() });
    locators.push(locator);
    const stop = new AbortController();
    const resolving = locator.resolve(stop.signal);
    stop.abort(new Error("stopping"));
    await expect(resolving).rejects.toThrow("stopping");
  });
});

describe("ServerList (--server a,b,c)", () => {
  it("answers one address until it fails, then the next, round and round", async () => {
    const list = new ServerList(parseServers(" a:1, b:2 ,,c:3"));
    expect(await list.resolve()).toBe("a:1");
    list.failed("a:1");
    expect(list.current).toBe("b:2");
    list.failed("a:1"); // a late failure of an address already left changes nothing
    expect(list.current).toBe("b:2");
    list.failed("b:2");
    list.failed("c:3");
    expect(list.current).toBe("a:1");
  });

  it("jumps to the leader a standby names, adding it when it was not listed", () => {
    const list = new ServerList(["a:1", "b:2"]);
    list.failed("a:1", "b:2");
    expect(list.current).toBe("b:2");
    list.failed("b:2", "z:9");
    expect([list.current, list.size]).toEqual(["z:9", 3]);
  });

  it("refuses an empty list", () => {
    expect(() => parseServers(" , ")).toThrow(/no control-plane address given/);
  });
});
