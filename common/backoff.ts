/**
 * How long to wait between tries: the first wait, its growth, and its cap.
 * The field names are the task retry policy's, so a policy is a `Backoff`.
 */
export interface Backoff {
  /** The wait after the first failure, before jitter. */
  initialBackoffMs: number;
  /** No wait is longer than this, before jitter. */
  maxBackoffMs: number;
  /** Each failure multiplies the wait by this (default 2). */
  multiplier?: number;
}

/**
 * The wait after `failures` failures in a row (1 for the first):
 * `initialBackoffMs × multiplier^(failures−1)`, capped at `maxBackoffMs`,
 * with equal jitter: uniformly between half and all of it.
 *
 * The one backoff of the project: the task retry policy (user-visible, see
 * ARCHITECTURE.md "Retries"), the worker's reconnects and reports, the
 * client's session reopens and the dashboard's streams all use it, so none of
 * them retries in lockstep with another process that failed at the same
 * moment. Equal rather than full jitter (uniform between 0 and all of it):
 * the wait never comes close to zero, so a control plane that is down is not
 * hammered by the unlucky draws, and the documented retry policy keeps
 * "between half and all of it". No Node imports: the dashboard uses it too.
 */
export function backoffMs(backoff: Backoff, failures: number, random: () => number = Math.random): number {
  const steps = Math.max(0, failures - 1);
  // 0 × Infinity is NaN: a zero initial wait stays zero however many failures (multiplier^1000 overflows).
  const exponential = backoff.initialBackoffMs === 0 ? 0 : backoff.initialBackoffMs * (backoff.multiplier ?? 2) ** steps;
  const capped = Math.min(backoff.maxBackoffMs, exponential);
  return capped / 2 + random() * (capped / 2);
}
