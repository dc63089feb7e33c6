import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * The beacon datagram: how a control plane tells its network where it is.
 *
 * ```
 * offset 0  "FW"                 magic (2 bytes)
 * offset 2  version = 1          format version (1 byte)
 * offset 3  flags                bit 0: signed; bit 1: a probe
 * offset 4  HMAC-SHA256 (32)     only when signed: over bytes 0..3 and the body, exactly as sent
 * then      body                 UTF-8 JSON: cluster, grpc, http, version, ts, nonce, [tls], [kid]
 *                                (a probe: cluster, ts, nonce)
 * ```
 *
 * `tls` (true when the ports serve TLS) and `kid` (which credential's key
 * signed it, when a control plane signs one copy per credential) were added
 * within version 1: older listeners ignore unknown fields.
 *
 * A probe is what a listener sends when it starts, so that control planes
 * of its cluster announce themselves at once instead of at their next
 * interval (see `server/discovery/probe-responder.ts`). It is signed like a
 * beacon when there is a token.
 *
 * Parsing is strict (size cap, exact header, typed and bounded fields) and
 * never throws: anything wrong is a {@link BeaconRejection} the listener counts.
 */

/** The UDP port beacons go to unless told otherwise (the gRPC port's number, on UDP). */
export const DEFAULT_BEACON_PORT = 50051;
/** No valid beacon is larger; bigger datagrams are dropped unread. */
export const MAX_BEACON_BYTES = 1024;
/** The format version this code writes and reads. */
export const BEACON_FORMAT_VERSION = 1;

const MAGIC = Buffer.from("FW", "latin1");
const HEADER_BYTES = 4;
const MAC_BYTES = 32;
const FLAG_SIGNED = 0x01;
const FLAG_PROBE = 0x02;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What a control plane announces. */
export interface Beacon {
  /** The cluster name (`--cluster`). */
  cluster: string;
  /** host:port of its gRPC port, reachable from the network the beacon was sent on. */
  grpc: string;
  /** http://host:port of its HTTP port (dashboard, Connect). */
  http: string;
  /** The control plane's fastworker version. */
  version: string;
  /** When it was sent, Unix milliseconds (freshness and replay protection). */
  ts: number;
  /** Random per beacon (replay protection). */
  nonce: string;
  /** True when both ports serve TLS: dial grpcs:// (absent in beacons of older control planes: plaintext). */
  tls?: boolean;
  /** The signing key's id ({@link keyId}), in signed beacons. */
  kid?: string;
}

/** Why a datagram was not accepted as a beacon; the listener counts each. */
export type BeaconRejection = "malformed" | "unsupported-version" | "unsigned" | "bad-signature" | "stale" | "replayed";

/** Every rejection reason, in the order summaries list them. */
export const BEACON_REJECTIONS: readonly BeaconRejection[] = ["malformed", "unsupported-version", "unsigned", "bad-signature", "stale", "replayed"];

/** A decoded datagram, or why it was refused (with a detail for logs). */
export type DecodeResult =
  | { ok: true; beacon: Beacon; signed: boolean; verified: boolean }
  | { ok: false; reason: BeaconRejection; detail: string; expected?: boolean };

/**
 * The HMAC key for a token. Derived (HKDF) rather than the token itself, so
 * the beacon MAC and the bearer token are never the same secret in two roles.
 */
export function beaconKey(token: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(token, "utf8"), Buffer.alloc(0), "fastworker beacon v1", 32));
}

/**
 * A short public id of a beacon key (8 characters, one-way): a control plane
 * with several credentials signs one copy of each beacon per credential, and
 * a listener tells the copies signed for another credential (expected, not
 * worth a warning) from forgeries by it.
 */
export function keyId(key: Buffer): string {
  return createHmac("sha256", key).update("fastworker beacon key id").digest().subarray(0, 6).toString("base64url");
}

/** A fresh nonce: 12 random bytes, base64url (16 characters). */
export function newNonce(): string {
  return randomBytes(12).toString("base64url");
}

/** Throws with a message naming the rule when a cluster name cannot be carried by a beacon. */
export function validateClusterName(name: string): string {
  if (!CLUSTER_NAME.test(name)) {
    throw new Error(`cluster name ${JSON.stringify(name)} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

/** What a listener asks with: announce yourselves, control planes of this cluster. */
export interface Probe {
  cluster: string;
  ts: number;
  nonce: string;
}

/** Encodes a probe; signs it when a key is given. */
export function encodeProbe(probe: Probe, key?: Buffer): Buffer {
  const body = Buffer.from(JSON.stringify({ cluster: probe.cluster, ts: probe.ts, nonce: probe.nonce }), "utf8");
  const header = Buffer.from([MAGIC[0]!, MAGIC[1]!, BEACON_FORMAT_VERSION, FLAG_PROBE | (key ? FLAG_SIGNED : 0)]);
  return key ? Buffer.concat([header, mac(key, header, body), body]) : Buffer.concat([header, body]);
}

/** Whether a datagram is a probe (by its header; decodeProbe checks the rest). */
export function isProbe(datagram: Buffer): boolean {
  return datagram.length >= HEADER_BYTES && datagram[0] === MAGIC[0] && datagram[1] === MAGIC[1] && datagram[2] === BEACON_FORMAT_VERSION && (datagram[3]! & FLAG_PROBE) !== 0;
}

/** Decodes and authenticates a probe (same rules as a beacon's); never throws. */
export function decodeProbe(datagram: Buffer, key?: Buffer): { ok: true; probe: Probe } | { ok: false; reason: BeaconRejection; detail: string } {
  if (datagram.length > MAX_BEACON_BYTES || !isProbe(datagram)) return { ok: false, reason: "malformed", detail: "not a fastworker probe" };
  const flags = datagram[3]!;
  if ((flags & ~(FLAG_SIGNED | FLAG_PROBE)) !== 0) return { ok: false, reason: "malformed", detail: `unknown flags 0x${flags.toString(16)}` };
  const signed = (flags & FLAG_SIGNED) !== 0;
  const bodyStart = HEADER_BYTES + (signed ? MAC_BYTES : 0);
  if (datagram.length <= bodyStart) return { ok: false, reason: "malformed", detail: "truncated" };
  const header = datagram.subarray(0, HEADER_BYTES);
  const body = datagram.subarray(bodyStart);
  if (key !== undefined) {
    if (!signed) return { ok: false, reason: "unsigned", detail: "unsigned, and this control plane has a token" };
    if (!timingSafeEqual(datagram.subarray(HEADER_BYTES, bodyStart), mac(key, header, body))) {
      return { ok: false, reason: "bad-signature", detail: "signature does not match this control plane's token" };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return { ok: false, reason: "malformed", detail: "body is not UTF-8 JSON" }; // the bytes are not logged
  }
  const { cluster, ts, nonce } = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof cluster !== "string" || !CLUSTER_NAME.test(cluster)) return { ok: false, reason: "malformed", detail: "bad cluster" };
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts <= 0) return { ok: false, reason: "malformed", detail: "bad timestamp" };
  if (typeof nonce !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return { ok: false, reason: "malformed", detail: "bad nonce" };
  return { ok: true, probe: { cluster, ts, nonce } };
}

/** Encodes a beacon; signs it when a key is given. */
export function encodeBeacon(beacon: Beacon, key?: Buffer): Buffer {
  const { cluster, grpc, http, version, ts, nonce } = beacon;
  const body = Buffer.from(
    JSON.stringify({ cluster, grpc, http, version, ts, nonce, ...(beacon.tls ? { tls: true } : {}), ...(key ? { kid: keyId(key) } : {}) }),
    "utf8",
  );
  const header = Buffer.from([MAGIC[0]!, MAGIC[1]!, BEACON_FORMAT_VERSION, key ? FLAG_SIGNED : 0]);
  const datagram = key ? Buffer.concat([header, mac(key, header, body), body]) : Buffer.concat([header, body]);
  if (datagram.length > MAX_BEACON_BYTES) throw new Error(`beacon is ${datagram.length} bytes, over the ${MAX_BEACON_BYTES}-byte limit`);
  return datagram;
}

/**
 * Decodes and authenticates a datagram. With a key, only beacons signed with
 * it pass; without one, signed beacons are accepted unverified (the RPCs
 * then fail with UNAUTHENTICATED, which says what to do). Never throws.
 */
export function decodeBeacon(datagram: Buffer, key?: Buffer): DecodeResult {
  if (datagram.length > MAX_BEACON_BYTES) return reject("malformed", `${datagram.length} bytes, over the ${MAX_BEACON_BYTES}-byte limit`);
  if (datagram.length < HEADER_BYTES || datagram[0] !== MAGIC[0] || datagram[1] !== MAGIC[1]) return reject("malformed", "not a fastworker beacon");
  if (datagram[2] !== BEACON_FORMAT_VERSION) {
    return reject("unsupported-version", `format version ${datagram[2]}, this fastworker reads version ${BEACON_FORMAT_VERSION}`);
  }
  const flags = datagram[3]!;
  if ((flags & ~FLAG_SIGNED) !== 0) return reject("malformed", `unknown flags 0x${flags.toString(16)}`);
  const signed = (flags & FLAG_SIGNED) !== 0;
  const bodyStart = HEADER_BYTES + (signed ? MAC_BYTES : 0);
  if (datagram.length <= bodyStart) return reject("malformed", "truncated");
  const header = datagram.subarray(0, HEADER_BYTES);
  const body = datagram.subarray(bodyStart);
  if (key !== undefined) {
    if (!signed) return reject("unsigned", "unsigned, and this listener has a token");
    if (!timingSafeEqual(datagram.subarray(HEADER_BYTES, bodyStart), mac(key, header, body))) {
      const kid = peekKeyId(body);
      if (kid !== undefined && kid !== keyId(key)) {
        return { ok: false, reason: "bad-signature", detail: "signed for another of the control plane's credentials", expected: true };
      }
      return reject("bad-signature", "signature does not match this listener's token");
    }
  }
  const parsed = parseBody(body);
  if (typeof parsed === "string") return reject("malformed", parsed);
  return { ok: true, beacon: parsed, signed, verified: key !== undefined };
}

/** The kid of a body, unverified (only to tell why a signature did not match). */
function peekKeyId(body: Buffer): string | undefined {
  try {
    const kid = (JSON.parse(body.toString("utf8")) as { kid?: unknown }).kid;
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

function mac(key: Buffer, header: Buffer, body: Buffer): Buffer {
  return createHmac("sha256", key).update(header).update(body).digest();
}

function reject(reason: BeaconRejection, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/** The body's fields, type- and bound-checked; a string says what is wrong. */
function parseBody(body: Buffer): Beacon | string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return "body is not UTF-8 JSON"; // the reason is all a listener needs; the bytes are not logged
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "body is not a JSON object";
  const field = (name: string): unknown => (Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined);
  const cluster = field("cluster");
  const grpc = field("grpc");
  const http = field("http");
  const version = field("version");
  const ts = field("ts");
  const nonce = field("nonce");
  const tls = field("tls");
  const kid = field("kid");
  if (typeof cluster !== "string" || !CLUSTER_NAME.test(cluster)) return "bad cluster";
  if (typeof grpc !== "string" || !isHostPort(grpc)) return "bad grpc address";
  if (typeof http !== "string" || !isHttpUrl(http)) return "bad http address";
  if (typeof version !== "string" || !/^[0-9A-Za-z.+-]{1,32}$/.test(version)) return "bad version";
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts <= 0) return "bad timestamp";
  if (typeof nonce !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return "bad nonce";
  if (tls !== undefined && typeof tls !== "boolean") return "bad tls flag";
  if (kid !== undefined && (typeof kid !== "string" || !/^[A-Za-z0-9_-]{1,16}$/.test(kid))) return "bad key id";
  return { cluster, grpc, http, version, ts, nonce, ...(tls === true ? { tls } : {}), ...(kid !== undefined ? { kid } : {}) };
}

/** "host:port" or "[v6]:port" with a concrete host (never a wildcard) and a port from 1 to 65535. */
export function isHostPort(value: string): boolean {
  if (value.length > 262) return false;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return false;
  if (match[1] !== undefined) return isIP(host) === 6 && host !== "::";
  return host !== "0.0.0.0" && host.length > 0;
}

function isHttpUrl(value: string): boolean {
  if (value.length > 300 || !/^https?:\/\//.test(value)) return false;
  try {
    const url = new URL(value);
    return isHostPort(url.host.includes(":") ? url.host : `${url.host}:80`);
  } catch {
    return false; // not a URL: the caller reports "bad http address"
  }
}
