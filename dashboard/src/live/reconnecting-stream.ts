import { backoffMs, type Backoff } from "../../../common/backoff.js";
import { describeError, isUnauthenticated } from "../api/errors.js";

/** What {@link reconnectingStream} needs. */
export interface ReconnectingStreamOptions<T> {
  /** Opens the stream; it must end when `signal` aborts. */
  open: (signal: AbortSignal) => AsyncIterable<T>;
  /** Each message; `first` is true for the first one of every new stream. */
  onMessage: (message: T, first: boolean) => void;
  /** Connected, failed (with why, when there is more to say than "cannot reach", and when it retries), or refused for the token. */
  onStatus: (status: { kind: "live" } | { kind: "down"; reason?: string; retryAt: number } | { kind: "unauthenticated" }) => void;
  /** A stream that sends nothing for this long is taken as dead and reopened. */
  silenceMs?: number;
  /** A "retry" event on it ends the wait before the next attempt (the person asked to retry now). */
  wake?: EventTarget;
  /** Ends the loop for good. */
  signal: AbortSignal;
}

/** Waits before reopening: from 0.5 s up to 5 s, jittered. */
const REOPEN_BACKOFF: Backoff = { initialBackoffMs: 500, maxBackoffMs: 5000 };

/**
 * Keeps a server stream open: reopens it with capped exponential backoff
 * (and jitter) after an error, an end, or too long a silence, so the page
 * follows a control plane that restarts. A refused token stops the loop; the
 * caller starts a new one when the person gives another token.
 */
export async function reconnectingStream<T>(options: ReconnectingStreamOptions<T>): Promise<void> {
  let failures = 0;
  while (!options.signal.aborted) {
    const attempt = new AbortController();
    const stop = (): void => attempt.abort();
    options.signal.addEventListener("abort", stop, { once: true });
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const feed = (): void => {
      clearTimeout(watchdog);
      if (options.silenceMs) watchdog = setTimeout(stop, options.silenceMs);
    };
    let reason: string | undefined = "it closed the stream";
    try {
      feed();
      let first = true;
      for await (const message of options.open(attempt.signal)) {
        feed();
        if (first) options.onStatus({ kind: "live" });
        failures = 0;
        options.onMessage(message, first);
        first = false;
      }
    } catch (err) {
      if (options.signal.aborted) return;
      if (isUnauthenticated(err)) {
        options.onStatus({ kind: "unauthenticated" });
        return;
      }
      reason = attempt.signal.aborted ? "it stopped answering" : describeError(err);
    } finally {
      clearTimeout(watchdog);
      options.signal.removeEventListener("abort", stop);
    }
    if (options.signal.aborted) return;
    const delay = backoffMs(REOPEN_BACKOFF, ++failures);
    options.onStatus({ kind: "down", ...(reason ? { reason } : {}), retryAt: Date.now() + delay });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      options.signal.addEventListener("abort", done, { once: true });
      options.wake?.addEventListener("retry", done, { once: true });
      function done(): void {
        clearTimeout(timer);
        options.signal.removeEventListener("abort", done);
        options.wake?.removeEventListener("retry", done);
        resolve();
      }
    });
  }
}
