import { timingSafeEqual, createHash } from "node:crypto";

/** The header (gRPC metadata key) that carries the token. */
export const AUTH_HEADER = "authorization";

/** The header value for a token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/**
 * A checker for `authorization: Bearer <token>` headers. Compares digests so
 * the time taken does not depend on how much of the token matched.
 */
export function tokenChecker(token: string): (header: string | undefined | null) => boolean {
  const expected = createHash("sha256").update(bearer(token)).digest();
  return (header) => {
    if (!header) return false;
    const actual = createHash("sha256").update(header).digest();
    return timingSafeEqual(actual, expected);
  };
}

/** The one message every unauthenticated call gets, on both ports. */
export const UNAUTHENTICATED_MESSAGE =
  "missing or wrong token: pass --token (or set FW_TOKEN) to match the control plane's --token";
