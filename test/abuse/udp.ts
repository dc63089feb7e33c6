import { createSocket } from "node:dgram";
import { BeaconListener } from "../../common/discovery/beacon-listener.js";
import { beaconKey, encodeBeacon, newNonce, type Beacon } from "../../common/discovery/beacon.js";
import { freeUdpPort } from "../helpers/udp.js";
import { mutateBytes } from "./mutate.js";
import type { Random } from "../helpers/random.js";
import type { Tally } from "./tally.js";

const SURFACE = "udp beacons";

/**
 * Datagrams at the discovery port of a listener (a BeaconListener with a
 * token, as fw-worker runs one): random bytes, mutated valid beacons, one
 * valid beacon replayed, stale, unsigned and wrongly signed ones. Every one
 * must be dropped and counted by reason, the listener must live on, and a
 * fresh valid beacon afterwards must still be accepted. Loopback only.
 */
export async function udpBeacons(rand: Random, count: number, tally: Tally): Promise<void> {
  const port = await freeUdpPort();
  const token = "abuse-token-0123456789";
  const listener = await new BeaconListener({ cluster: "abuse", token, port, bindAddress: "127.0.0.1" }).start();
  const key = beaconKey(token);
  const beacon = (overrides: Partial<Beacon> = {}): Beacon => ({ cluster: "abuse", grpc: "127.0.0.1:1", http: "http://127.0.0.1:2", version: "0.0.0", ts: Date.now(), nonce: newNonce(), ...overrides });
  const socket = createSocket({ type: "udp4" });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const send = (datagram: Buffer): Promise<void> => new Promise((resolve) => socket.send(datagram, port, "127.0.0.1", () => resolve()));
  try {
    const replayed = encodeBeacon(beacon(), key);
    await send(replayed); // accepted once
    for (let i = 0; i < count; i++) {
      const r = rand.next();
      if (r < 0.4) await send(rand.bytes(rand.length(1500)));
      else if (r < 0.7) await send(mutateBytes(rand, encodeBeacon(beacon(), key)));
      else if (r < 0.85) await send(replayed);
      else if (r < 0.9) await send(encodeBeacon(beacon({ ts: Date.now() - 3_600_000 }), key));
      else if (r < 0.95) await send(encodeBeacon(beacon()));
      else await send(encodeBeacon(beacon(), beaconKey("another-token-0123456789")));
      // UDP send callbacks come back without an event-loop turn: yield often, or the listener reads
      // nothing and its socket buffer overflows (the kernel drops what does not fit).
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // Let the listener read what is still buffered (bounded: 200 turns).
    const seen = (): number => listener.counters.accepted + listener.counters.otherCluster + Object.values(listener.counters.rejected).reduce((a, b) => a + b, 0);
    for (let turns = 0; turns < 200 && seen() < count + 1; turns++) await new Promise((resolve) => setImmediate(resolve));
    // Still listening: a fresh, valid beacon is accepted.
    const next = listener.next(AbortSignal.timeout(10_000));
    await send(encodeBeacon(beacon({ grpc: "127.0.0.1:3" }), key));
    const heard = await next.then((h) => h.beacon.grpc, () => "nothing");
    const c = listener.counters;
    const dropped = Object.values(c.rejected).reduce((a, b) => a + b, 0);
    for (const [reason, n] of Object.entries(c.rejected)) for (let i = 0; i < n; i++) tally.record(SURFACE, `dropped: ${reason}`, false, () => "");
    // Accepted: the first copy of the replayed beacon, mutations that happened to change only unchecked bytes, and the fresh one.
    for (let i = 0; i < c.accepted; i++) tally.record(SURFACE, "accepted", false, () => "");
    tally.record(SURFACE, heard === "127.0.0.1:3" ? "listener alive" : "listener deaf", heard !== "127.0.0.1:3", () => "a fresh beacon after the flood");
    const lost = count + 2 - dropped - c.accepted - c.otherCluster;
    if (lost > 0) for (let i = 0; i < lost; i++) tally.record(SURFACE, "not received (UDP)", false, () => "");
  } finally {
    socket.close();
    await listener.stop();
  }
}
