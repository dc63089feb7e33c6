import type { RetryPolicyData } from "../store/task-record.js";

/** Without a policy from the submission or the task definition: one attempt, no retries. */
export const DEFAULT_RETRY: RetryPolicyData = Object.freeze({
  maxAttempts: 1,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  multiplier: 2,
});

/**
 * The longest wait between attempts: a retry policy may not ask for more
 * (INVALID_ARGUMENT), and none is applied longer (policies kept from before).
 */
export const MAX_BACKOFF_MS = 24 * 3600_000;

/** The attempts allowed: the submission's, else the definition's, else the default (no allocation: used per dispatch). */
export function resolveMaxAttempts(submission: Partial<RetryPolicyData> | undefined, definition: Partial<RetryPolicyData> | undefined): number {
  return submission?.maxAttempts || definition?.maxAttempts || DEFAULT_RETRY.maxAttempts;
}

/** The policy in force: each field from the submission, else the definition, else the default. */
export function resolveRetry(
  submission: Partial<RetryPolicyData> | undefined,
  definition: Partial<RetryPolicyData> | undefined,
): RetryPolicyData {
  if (submission === undefined && definition === undefined) return DEFAULT_RETRY;
  return {
    maxAttempts: resolveMaxAttempts(submission, definition),
    initialBackoffMs: submission?.initialBackoffMs ?? definition?.initialBackoffMs ?? DEFAULT_RETRY.initialBackoffMs,
    maxBackoffMs: Math.min(MAX_BACKOFF_MS, submission?.maxBackoffMs ?? definition?.maxBackoffMs ?? DEFAULT_RETRY.maxBackoffMs),
    multiplier: submission?.multiplier || definition?.multiplier || DEFAULT_RETRY.multiplier,
  };
}

// The wait before the next attempt after `failures` failed ones (initial × multiplier^(failures−1),
// capped at maxBackoff, equal jitter: see ARCHITECTURE.md "Retries"). A RetryPolicyData is a
// Backoff, so the project's one backoff computes it.
export { backoffMs } from "../../common/backoff.js";
