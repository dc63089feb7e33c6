import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { beaconKey, decodeBeacon, encodeBeacon, isHostPort, keyId, MAX_BEACON_BYTES, newNonce, validateClusterName, type Beacon } from "./beacon.js";

const beacon = (overrides: Partial<Beacon> = {}): Beacon => ({
  cluster: "prod",
  grpc: "10.77.0.1:50051",
  http: "http://10.77.0.1:8000",
  version: "0.1.0",
  ts: 1_700_000_000_000,
  nonce: newNonce(),
  ...overrides,
});

describe("beacon format", () => {
  it("round-trips unsigned and signed beacons, well under the size cap", () => {
    const b = beacon();
    const unsigned = encodeBeacon(b);
    expect(unsigned.subarray(0, 4)).toEqual(Buffer.from([0x46, 0x57, 1, 0]));
    expect(decodeBeacon(unsigned)).toEqual({ ok: true, beacon: b, signed: false, verified: false });

    const key = beaconKey("s3cret-0123456789abcdef");
    const signed = encodeBeacon(b, key);
    expect(signed[3]).toBe(1);
    expect(signed.length).toBe(unsigned.length + 32 + `,"kid":"${keyId(key)}"`.length);
    expect(signed.length).toBeLessThan(MAX_BEACON_BYTES / 2);
    expect(decodeBeacon(signed, key)).toEqual({ ok: true, beacon: { ...b, kid: keyId(key) }, signed: true, verified: true });
    // Without a token a signed beacon is usable but not verified.
    expect(decodeBeacon(signed)).toMatchObject({ ok: true, signed: true, verified: false });
  });

  it("with a token, rejects unsigned beacons, other keys and any changed byte", () => {
    const key = beaconKey("s3cret-0123456789abcdef");
    expect(decodeBeacon(encodeBeacon(beacon()), key)).toMatchObject({ ok: false, reason: "unsigned" });
    // Signed with another key: still a bad signature, but recognisably a copy for another credential, not a forgery of ours.
    expect(decodeBeacon(encodeBeacon(beacon(), beaconKey("guess-0123456789abcdef")), key)).toMatchObject({ ok: false, reason: "bad-signature", expected: true });
    const good = encodeBeacon(beacon(), key);
    for (let i = 4; i < good.length; i++) {
      const tampered = Buffer.from(good);
      tampered[i]! ^= 0x01;
      expect(decodeBeacon(tampered, key).ok, `byte ${i} flipped`).toBe(false);
    }
    // A forgery claiming our key id is no "expected" copy.
    const forged = Buffer.from(good);
    forged[10]! ^= 0x01;
    expect(decodeBeacon(forged, key)).toMatchObject({ ok: false, reason: "bad-signature" });
    expect(decodeBeacon(forged, key)).not.toHaveProperty("expected");
    // The header is covered too: clearing the signed flag makes it "unsigned", never accepted.
    const unflagged = Buffer.from(good);
    unflagged[3] = 0;
    expect(decodeBeacon(unflagged, key)).toMatchObject({ ok: false, reason: "unsigned" });
  });

  it("carries the TLS flag (absent: plaintext, as from older control planes)", () => {
    expect(decodeBeacon(encodeBeacon(beacon({ tls: true, http: "https://10.77.0.1:8000" })))).toMatchObject({ ok: true, beacon: { tls: true, http: "https://10.77.0.1:8000" } });
    const plain = decodeBeacon(encodeBeacon(beacon({ tls: false })));
    expect(plain.ok && plain.beacon.tls).toBeUndefined();
  });

  it("rejects truncated, oversized, foreign and future-version datagrams without throwing", () => {
    const key = beaconKey("k");
    const good = encodeBeacon(beacon(), key);
    for (let n = 0; n < good.length; n++) expect(decodeBeacon(good.subarray(0, n), key).ok, `truncated to ${n}`).toBe(false);
    const unsigned = encodeBeacon(beacon());
    for (let n = 0; n < unsigned.length; n++) expect(decodeBeacon(unsigned.subarray(0, n)).ok, `unsigned truncated to ${n}`).toBe(false);
    expect(decodeBeacon(Buffer.alloc(MAX_BEACON_BYTES + 1, 0x46))).toMatchObject({ ok: false, reason: "malformed" });
    expect(decodeBeacon(Buffer.alloc(65_507))).toMatchObject({ ok: false, reason: "malformed" });
    expect(decodeBeacon(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toMatchObject({ ok: false, reason: "malformed" });
    const v2 = encodeBeacon(beacon());
    v2[2] = 2;
    expect(decodeBeacon(v2)).toMatchObject({ ok: false, reason: "unsupported-version" });
    const flags = encodeBeacon(beacon());
    flags[3] = 0x80;
    expect(decodeBeacon(flags)).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("checks every field strictly and never announces a wildcard", () => {
    const raw = (body: unknown): Buffer => Buffer.concat([Buffer.from([0x46, 0x57, 1, 0]), Buffer.from(typeof body === "string" ? body : JSON.stringify(body))]);
    const valid = { ...beacon() };
    expect(decodeBeacon(raw(valid)).ok).toBe(true);
    const bad: Record<string, unknown>[] = [
      { cluster: "" },
      { cluster: "a b" },
      { cluster: 7 },
      { grpc: "0.0.0.0:50051" },
      { grpc: "[::]:50051" },
      { grpc: "10.0.0.1" },
      { grpc: "10.0.0.1:0" },
      { grpc: "10.0.0.1:70000" },
      { http: "ftp://10.0.0.1:8000" },
      { http: "http://0.0.0.0:8000" },
      { version: "x".repeat(40) },
      { ts: -1 },
      { ts: "1" },
      { ts: 1.5 },
      { nonce: "short" },
      { nonce: undefined },
      { tls: "yes" },
      { tls: 1 },
      { kid: 5 },
      { kid: "has spaces" },
    ];
    for (const change of bad) {
      expect(decodeBeacon(raw({ ...valid, ...change })), JSON.stringify(change)).toMatchObject({ ok: false, reason: "malformed" });
    }
    for (const body of ["", "null", "[]", "42", '"x"', "{", "\uFFFF".repeat(3), '{"__proto__":{"cluster":"prod"}}']) {
      expect(decodeBeacon(raw(body)), body).toMatchObject({ ok: false, reason: "malformed" });
    }
    expect(decodeBeacon(Buffer.concat([Buffer.from([0x46, 0x57, 1, 0]), Buffer.from([0xff, 0xfe, 0x7b])]))).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("survives random bytes and random mutations of valid beacons", () => {
    const key = beaconKey("fuzz");
    const good = encodeBeacon(beacon(), key);
    for (let i = 0; i < 5000; i++) {
      const random = randomBytes(Math.floor(Math.random() * 1200));
      if (i % 2 === 0 && random.length >= 4) random.set([0x46, 0x57, 1, i % 4 === 0 ? 1 : 0]);
      expect(() => decodeBeacon(random, key)).not.toThrow();
      expect(() => decodeBeacon(random)).not.toThrow();
      const mutated = Buffer.from(good);
      mutated[Math.floor(Math.random() * mutated.length)] = Math.floor(Math.random() * 256);
      expect(() => decodeBeacon(mutated)).not.toThrow();
    }
  });

  it("validates cluster names and host:port addresses", () => {
    expect(validateClusterName("prod-eu_1.a")).toBe("prod-eu_1.a");
    for (const name of ["", "-x", "a b", "x".repeat(65), "é"]) expect(() => validateClusterName(name)).toThrow(/cluster name/);
    expect(isHostPort("[::1]:50051")).toBe(true);
    expect(isHostPort("worker-1.local:50051")).toBe(true);
    expect(isHostPort("[::]:1")).toBe(false);
    expect(isHostPort("::1:50051")).toBe(false);
  });
});
