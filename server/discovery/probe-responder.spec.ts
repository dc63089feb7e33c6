import { describe, expect, it } from "vitest";
import { beaconKey, encodeBeacon, encodeProbe, newNonce } from "../../common/discovery/beacon.js";
import { silentLogger } from "../../common/logger.js";
import { ProbeResponder } from "./probe-responder.js";

const TOKEN = "a-token-of-sixteen-chars";

function responder(token?: string) {
  let announced = 0;
  const r = new ProbeResponder({ cluster: "blue", tokens: token === undefined ? [] : [token], port: 1, announce: () => announced++, logger: silentLogger() });
  return { r, announced: () => announced };
}

describe("ProbeResponder", () => {
  it("announces for a fresh probe of its cluster, signed with its token when it has one", () => {
    const { r, announced } = responder(TOKEN);
    const now = Date.now();
    expect(r.runOnce(encodeProbe({ cluster: "blue", ts: now, nonce: newNonce() }, beaconKey(TOKEN)), now)).toBe(true);
    expect(announced()).toBe(1);
  });

  it("ignores probes of other clusters, unsigned or forged ones, replays, stale ones and beacons", () => {
    const { r, announced } = responder(TOKEN);
    const now = Date.now();
    const key = beaconKey(TOKEN);
    const replayed = encodeProbe({ cluster: "blue", ts: now, nonce: newNonce() }, key);
    expect(r.runOnce(replayed, now)).toBe(true);
    for (const datagram of [
      replayed,
      encodeProbe({ cluster: "green", ts: now, nonce: newNonce() }, key),
      encodeProbe({ cluster: "blue", ts: now, nonce: newNonce() }),
      encodeProbe({ cluster: "blue", ts: now, nonce: newNonce() }, beaconKey("another-token-of-16ch")),
      encodeProbe({ cluster: "blue", ts: now - 60_000, nonce: newNonce() }, key),
      encodeBeacon({ cluster: "blue", grpc: "127.0.0.1:1", http: "http://127.0.0.1:2", version: "1", ts: now, nonce: newNonce() }, key),
      Buffer.from("FW\u0001\u0002{not json"),
    ]) {
      expect(r.runOnce(datagram, now)).toBe(false);
    }
    expect(announced()).toBe(1);
    expect(r.counters).toEqual({ answered: 1, dropped: 6 });
  });
});
