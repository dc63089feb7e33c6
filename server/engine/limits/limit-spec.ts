import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { FlowLimitSchema, RateLimitSchema, type FlowLimit } from "../../../gen/fastworker/v1/limit_pb.js";
import { durationFromMs, durationToMs } from "../../../common/time.js";
import type { LogValue } from "../../store/state-log.js";
import { keySourceText, parseKeySource, type KeySource } from "./limit-key.js";

/** The most tasks of one name running at once that a limit may name. */
export const MAX_CONCURRENCY = 1_000_000;
const MAX_RATE = 1_000_000;
const MAX_RATE_WINDOW_MS = 24 * 3600_000;

/**
 * A flow limit, or an override of one. In an override an undefined field
 * keeps the declared value, and `null` removes it (concurrency 0, rate max
 * 0, key "" on the wire).
 */
export interface LimitSpec {
  concurrency?: number | null;
  rate?: { max: number; perMs: number } | null;
  key?: KeySource | null;
}

/** A limit in force: every field resolved. */
export interface EffectiveLimit {
  concurrency: number | undefined;
  rate: { max: number; perMs: number } | undefined;
  key: KeySource | undefined;
}

/**
 * Reads a FlowLimit message. As a declaration (`override` false), unset and
 * zero both mean "no limit"; as an override, unset keeps the declared value
 * and zero / "" removes it. Throws INVALID_ARGUMENT naming the field.
 */
export function limitFromMessage(message: FlowLimit | undefined, what: string, override: boolean): LimitSpec | undefined {
  if (message === undefined) return undefined;
  const invalid = (text: string): ConnectError => new ConnectError(`${what}: ${text}`, Code.InvalidArgument);
  const spec: LimitSpec = {};
  if (message.concurrency !== undefined) {
    const n = message.concurrency;
    if (!(Number.isInteger(n) && n >= 0 && n <= MAX_CONCURRENCY)) throw invalid(`concurrency must be between 1 and ${MAX_CONCURRENCY} (0: no limit), got ${n}`);
    if (n > 0) spec.concurrency = n;
    else if (override) spec.concurrency = null;
  }
  if (message.rate !== undefined) {
    const { max } = message.rate;
    const perMs = durationToMs(message.rate.per) ?? 0;
    if (!(Number.isInteger(max) && max >= 0 && max <= MAX_RATE)) throw invalid(`rate max must be between 1 and ${MAX_RATE} (0: no limit), got ${max}`);
    if (max > 0) {
      if (!(perMs >= 1 && perMs <= MAX_RATE_WINDOW_MS)) throw invalid(`the rate window must be between 1ms and 24h, got ${perMs}ms`);
      spec.rate = { max, perMs };
    } else if (override) spec.rate = null;
  }
  if (message.key !== undefined) {
    if (message.key === "") {
      if (override) spec.key = null;
    } else {
      try {
        spec.key = parseKeySource(message.key);
      } catch (err) {
        throw invalid((err as Error).message);
      }
    }
  }
  return spec;
}

/** The wire form of a spec (undefined fields unset; removals as 0 / ""). */
export function limitMessage(spec: LimitSpec | EffectiveLimit | undefined): FlowLimit | undefined {
  if (spec === undefined) return undefined;
  return create(FlowLimitSchema, {
    ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency ?? 0 } : {}),
    ...(spec.rate !== undefined ? { rate: create(RateLimitSchema, spec.rate === null ? { max: 0 } : { max: spec.rate.max, per: durationFromMs(spec.rate.perMs) }) } : {}),
    ...(spec.key !== undefined ? { key: spec.key === null ? "" : keySourceText(spec.key) } : {}),
  });
}

/** The limit in force: the override's fields win over the declaration's; undefined when nothing is limited. */
export function effectiveLimit(declared: LimitSpec | undefined, override: LimitSpec | undefined): EffectiveLimit | undefined {
  const pick = <K extends keyof LimitSpec>(k: K): NonNullable<LimitSpec[K]> | undefined => {
    const o = override?.[k];
    if (o !== undefined) return o ?? undefined;
    return declared?.[k] ?? undefined;
  };
  const effective: EffectiveLimit = { concurrency: pick("concurrency"), rate: pick("rate"), key: pick("key") };
  return effective.concurrency === undefined && effective.rate === undefined ? undefined : effective;
}

/** Says a limit in a few words, for status messages and logs: "at most 5 running, 100 per 60s, per args:/customer". */
export function describeLimit(limit: EffectiveLimit): string {
  const parts: string[] = [];
  if (limit.concurrency !== undefined) parts.push(`at most ${limit.concurrency} running`);
  if (limit.rate !== undefined) parts.push(`${limit.rate.max} per ${formatWindow(limit.rate.perMs)}`);
  if (limit.key !== undefined) parts.push(`per ${keySourceText(limit.key)}`);
  return parts.join(", ");
}

/** 1000 → "1s", 60000 → "60s", 250 → "250ms". */
export function formatWindow(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The log value of a spec. */
export function encodeLimit(spec: LimitSpec | undefined): LogValue {
  if (spec === undefined) return null;
  const out: Record<string, LogValue> = {};
  if (spec.concurrency !== undefined) out.c = spec.concurrency;
  if (spec.rate !== undefined) out.r = spec.rate === null ? null : [spec.rate.max, spec.rate.perMs];
  if (spec.key !== undefined) out.k = spec.key === null ? null : keySourceText(spec.key);
  return out;
}

/** Reads a spec back from the log. */
export function decodeLimit(value: LogValue | undefined): LimitSpec | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as { c?: number | null; r?: [number, number] | null; k?: string | null };
  const spec: LimitSpec = {};
  if (v.c !== undefined) spec.concurrency = v.c;
  if (v.r !== undefined) spec.rate = v.r === null ? null : { max: v.r[0], perMs: v.r[1] };
  if (v.k !== undefined) spec.key = v.k === null ? null : parseKeySource(v.k);
  return spec;
}
