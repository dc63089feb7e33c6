import { Code, ConnectError } from "@connectrpc/connect";

/** A sentence for a failed call, as the control plane worded it. */
export function describeError(err: unknown): string {
  const e = ConnectError.from(err);
  if (e.code === Code.Unavailable || e.code === Code.Unknown && /fetch|network/i.test(e.rawMessage)) {
    return "cannot reach the control plane";
  }
  return e.rawMessage || Code[e.code] || "unknown error";
}

/** True when the call was refused for a missing or wrong token. */
export function isUnauthenticated(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}
