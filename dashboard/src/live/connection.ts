import { Store } from "../model/store.js";

/** How the page's live link to the control plane is doing. */
export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "live" }
  /** The last attempt failed; the next one starts at `retryAt` (ms since epoch). */
  | { kind: "down"; message: string; retryAt: number }
  /** The control plane wants a token (or the one given is wrong). */
  | { kind: "unauthenticated"; hadToken: boolean };

/** Shown in the header and as the "cannot reach" banner. */
export const connection = new Store<ConnectionState>({ kind: "connecting" });
