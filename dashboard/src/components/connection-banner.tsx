import { connection } from "../live/connection.js";
import { useStore } from "../model/store.js";
import { useNow } from "./now.js";

/** Says plainly when the page cannot reach the control plane, and when it tries again. */
export function ConnectionBanner() {
  const state = useStore(connection);
  const now = useNow();
  if (state.kind !== "down") return null;
  const seconds = Math.max(0, Math.ceil((state.retryAt - now) / 1000));
  return (
    <div class="banner" role="alert">
      Cannot reach the control plane ({state.message}) — retrying{seconds > 0 ? ` in ${seconds} s` : "…"}. The numbers below may be out of date.
    </div>
  );
}

/** The small live/offline indicator in the header. */
export function ConnectionPill() {
  const state = useStore(connection);
  const label = state.kind === "live" ? "live" : state.kind === "down" ? "offline" : state.kind === "connecting" ? "connecting" : "locked";
  return (
    <span class={`pill pill-${state.kind}`} data-testid="connection" title={state.kind === "live" ? "updates arrive as they happen" : undefined}>
      <i aria-hidden="true" />
      {label}
    </span>
  );
}
