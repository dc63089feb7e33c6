import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A sentence for a failed call, as the control plane worded it; undefined
 * when the page simply cannot reach it (the caller says that in its own words,
 * once).
 */
export function describeError(err: unknown): string | undefined {
  const e = ConnectError.from(err);
  if (e.code === Code.Unavailable || (e.code === Code.Unknown && /fetch|network/i.test(e.rawMessage))) return undefined;
  return e.rawMessage || Code[e.code] || "unknown error";
}

/** A failed call's sentence for a message that names what failed: "Cannot list tasks: …". */
export function errorText(err: unknown): string {
  return describeError(err) ?? "cannot reach the control plane";
}

/** True when the call was refused for a missing or wrong token. */
export function isUnauthenticated(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}
