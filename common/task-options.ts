import { create } from "@bufbuild/protobuf";
import { RetryPolicySchema, type RetryPolicy } from "../gen/fastworker/v1/task_pb.js";
import { durationFromMs } from "./time.js";

/**
 * How failed attempts are retried: in a task definition (`task(name, fn,
 * { retry })`) and per submission (`client.submit(…, { retry })`). Shared by
 * the worker and the client, so both send the same message.
 */
export interface RetryOptions {
  /** Attempts in all, the first included (default 1: no retries). */
  maxAttempts?: number;
  /** Wait before the first retry (default 1000 ms); it grows by `multiplier` each time. */
  initialBackoffMs?: number;
  /** The longest wait between attempts (default 60000 ms). */
  maxBackoffMs?: number;
  /** Default 2. */
  multiplier?: number;
}

/** The wire form of retry options; unset fields stay unset (the control plane then uses the next default). */
export function retryPolicyMessage(retry: RetryOptions): RetryPolicy {
  return create(RetryPolicySchema, {
    maxAttempts: retry.maxAttempts ?? 0,
    initialBackoff: retry.initialBackoffMs !== undefined ? durationFromMs(retry.initialBackoffMs) : undefined,
    maxBackoff: retry.maxBackoffMs !== undefined ? durationFromMs(retry.maxBackoffMs) : undefined,
    multiplier: retry.multiplier ?? 0,
  });
}
