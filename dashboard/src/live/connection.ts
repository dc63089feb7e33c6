import { Store } from "../model/store.js";

/** How the page's live link to the control plane is doing. */
export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "live" }
  /**
   * The last attempt failed; the next one starts at `retryAt` (ms since
   * epoch). `reason` says more than "cannot reach" when there is more to say.
   */
  | { kind: "down"; reason?: string; retryAt: number }
  /**
   * The control plane wants a token (or the one given is wrong). `checking`:
   * a new token is on its way, the answer is not in yet.
   */
  | { kind: "unauthenticated"; hadToken: boolean; checking?: boolean };

/** Shown in the header and as the "cannot reach" banner. */
export const connection = new Store<ConnectionState>({ kind: "connecting" });

/** What the page knows about the control plane's life. */
export interface ControlPlaneLife {
  /** When the control plane that answers now started (ms since epoch), once known. */
  startedAt?: number;
  /** How often it was seen to restart while the page was open; views start afresh on each. */
  restarts: number;
  /** The start time before the latest restart, until the person dismisses the notice. */
  restartedFrom?: number;
}

/** Restarts, told apart by Stats.started_at. */
export const controlPlane = new Store<ControlPlaneLife>({ restarts: 0 });
