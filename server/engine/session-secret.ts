import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * A worker session's capability. RegisterWorker hands the secret to the
 * worker once; Dispatch and ReportResults must present it with the session
 * id, which listings publish. The control plane keeps only its SHA-256
 * (persisted with the session, so a restarted control plane still accepts
 * the worker): a leaked data directory or log gives no session away. A
 * plain hash is enough: the secret is 256 random bits, nothing to guess.
 */
export interface SessionSecret {
  /** What the worker presents (base64url, 43 characters). */
  readonly secret: string;
  /** What the control plane keeps. */
  readonly hash: Buffer;
}

/** A fresh secret and its hash. */
export function newSessionSecret(): SessionSecret {
  const secret = randomBytes(32).toString("base64url");
  return { secret, hash: hashSecret(secret) };
}

/** The hash kept for a secret. */
export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** True when `presented` is the secret of `hash`; the time taken does not depend on how much matched. */
export function secretMatches(hash: Buffer, presented: string): boolean {
  if (presented.length === 0) return false;
  const actual = hashSecret(presented);
  return actual.length === hash.length && timingSafeEqual(actual, hash);
}
