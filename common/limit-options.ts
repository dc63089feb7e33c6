import { create } from "@bufbuild/protobuf";
import { FlowLimitSchema, RateLimitSchema, type FlowLimit } from "../gen/fastworker/v1/limit_pb.js";
import { parseDurationText } from "./duration-text.js";
import { durationFromMs } from "./time.js";

/** A token-bucket rate: at most `max` starts per `perMs` (and `max` at once after a quiet spell). */
export interface RateLimitOptions {
  max: number;
  /** The window, in milliseconds (or as text: "1s", "1m"). */
  perMs: number | string;
}

/**
 * Flow limits of a task name, enforced by the control plane across all
 * workers: in a task definition, and for `client.setLimit()` (where `null`
 * removes a declared limit and an absent field keeps it).
 */
export interface LimitOptions {
  /** The most tasks of this name running at once. */
  concurrency?: number | null;
  /** The most starts per window. */
  rateLimit?: RateLimitOptions | null;
  /** Apply the limits per value of this instead of to the name as a whole: "args:/customer/id" (a JSON pointer into the args) or "metadata:tenant". */
  limitKey?: string | null;
}

/** The wire form of limit options; undefined when none is set. Throws a TypeError for a value that cannot be right. */
export function flowLimitMessage(options: LimitOptions, what: string): FlowLimit | undefined {
  const { concurrency, rateLimit, limitKey } = options;
  if (concurrency === undefined && rateLimit === undefined && limitKey === undefined) return undefined;
  if (concurrency != null && !(Number.isInteger(concurrency) && concurrency >= 1)) throw new TypeError(`${what}: concurrency must be a whole number of at least 1`);
  let rate;
  if (rateLimit != null) {
    if (!(Number.isInteger(rateLimit.max) && rateLimit.max >= 1)) throw new TypeError(`${what}: rateLimit.max must be a whole number of at least 1`);
    let perMs: number;
    try {
      perMs = parseDurationText(rateLimit.perMs);
    } catch (err) {
      throw new TypeError(`${what}: rateLimit.perMs: ${(err as Error).message}`);
    }
    rate = create(RateLimitSchema, { max: rateLimit.max, per: durationFromMs(perMs) });
  } else if (rateLimit === null) rate = create(RateLimitSchema, { max: 0 });
  return create(FlowLimitSchema, {
    ...(concurrency !== undefined ? { concurrency: concurrency ?? 0 } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(limitKey !== undefined ? { key: limitKey ?? "" } : {}),
  });
}
