import { createContextKey, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type { CredentialName } from "./credentials.js";

/** Who made a call, as the transports saw it: for audit lines in the services. */
export interface Caller {
  /** The peer's address and port. */
  peer: string;
  /** The credential the call proved ("none" without credentials). */
  credential: CredentialName;
}

const CALLER = createContextKey<Caller>({ peer: "unknown", credential: "none" }, { description: "fastworker caller" });

/** Context values carrying a caller (both transports make them for every call). */
export function callerValues(caller: Caller, values: ContextValues = createContextValues()): ContextValues {
  return values.set(CALLER, caller);
}

/** The caller of a call a service handles. */
export function callerOf(ctx: HandlerContext): Caller {
  return ctx.values.get(CALLER);
}

/** The caller recorded in context values (interceptors). */
export function callerIn(values: ContextValues): Caller {
  return values.get(CALLER);
}

/** Records the credential a call proved, once the access check knows it (HTTP port). */
export function setCredential(values: ContextValues, credential: CredentialName): void {
  values.set(CALLER, { ...values.get(CALLER), credential });
}
