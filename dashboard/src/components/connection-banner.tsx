import { connection, controlPlane } from "../live/connection.js";
import { retryNow } from "../live/live.js";
import { clock } from "../model/format.js";
import { useStore } from "../model/store.js";
import { useNow } from "./now.js";

/** Says plainly, once, when the page cannot reach the control plane and when it tries again; "Retry now" does not wait. */
export function ConnectionBanner() {
  const state = useStore(connection);
  const now = useNow();
  if (state.kind !== "down") return null;
  const seconds = Math.max(0, Math.ceil((state.retryAt - now) / 1000));
  return (
    <div class="banner banner-bad">
      <p role="alert">
        Cannot reach the control plane{state.reason ? ` (${state.reason})` : ""}. The numbers below may be out of date.
      </p>
      {/* The countdown changes every second: not read out each time. */}
      <span class="banner-retry" aria-hidden="true">
        {seconds > 0 ? `Retrying in ${seconds} s` : "Retrying…"}
      </span>
      <button type="button" class="button button-small" onClick={retryNow}>
        Retry now
      </button>
    </div>
  );
}

/** After the control plane restarted (a new start time): says so, since totals and retained tasks may have started again. */
export function RestartNotice() {
  const { startedAt, restartedFrom } = useStore(controlPlane);
  if (restartedFrom === undefined || startedAt === undefined) return null;
  return (
    <div class="banner banner-info">
      <p role="status">
        The control plane restarted at {clock(startedAt)} (it had been up since {clock(restartedFrom)}). Totals count from the restart, and the
        views were loaded again.
      </p>
      <button type="button" class="button button-small" onClick={() => controlPlane.patch({ restartedFrom: undefined })}>
        Dismiss
      </button>
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
