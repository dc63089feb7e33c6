import type { BreakdownSample } from "../producer/protocol.js";
import { quantileSorted, round } from "../lib/stats.js";
import type { ServerStamps } from "./stamps.js";

/** The hops of an idle round trip, in order. Each is the difference of two wall-clock stamps. */
export const HOPS = [
  { id: "submit-request", from: "call", to: "submitted", what: "client submit() → control plane accepted it (Session stream message: client batch, server decode + validate)" },
  { id: "dispatch-wakeup", from: "submitted", to: "dispatched", what: "accepted → dispatcher assigned it (dispatcher's setImmediate round)" },
  { id: "dispatch-stream", from: "dispatched", to: "handler", what: "assigned → handler started on the worker (Dispatch stream write, worker decode, executor)" },
  { id: "result-report", from: "handler", to: "finished", what: "handler started → result applied (reporter's setImmediate, ReportResults call, server apply)" },
  { id: "result-delivery", from: "finished", to: "result", what: "result applied → result() resolved (Session flush on a microtask, stream write, client decode)" },
] as const;

/** Side paths that overlap the main path. */
export const SIDE_HOPS = [
  { id: "submit-response", from: "submitted", to: "accepted", what: "accepted → submit() resolved in the client (Session acceptance)" },
  { id: "wait-request", from: "accepted", to: "waitArrived", what: "submit() resolved → the control plane knew a client waits for it (with follow=true it knows at submission, so this is ≤ 0)" },
] as const;

type StampName = "call" | "accepted" | "handler" | "result" | "submitted" | "dispatched" | "finished" | "waitArrived";

/** One hop's distribution over the samples, in milliseconds. */
export interface HopSummary {
  id: string;
  what: string;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export interface BreakdownSummary {
  samples: number;
  /** Samples whose stamps were all present and in order. */
  used: number;
  /** Samples whose wait reached the control plane only after the task had finished (0 when submissions are followed). */
  lateWaits: number;
  total: HopSummary;
  hops: HopSummary[];
  sideHops: HopSummary[];
}

/** Joins the producer's samples with the control plane's stamps and summarises each hop. */
export function analyzeBreakdown(samples: readonly BreakdownSample[], stamps: Readonly<Record<string, ServerStamps>>): BreakdownSummary {
  const joined: Record<StampName, number>[] = [];
  let lateWaits = 0;
  for (const sample of samples) {
    const s = stamps[sample.id];
    if (s?.submitted === undefined || s.dispatched === undefined || s.finished === undefined || s.waitArrived === undefined) continue;
    if (s.waitLate) lateWaits++;
    joined.push({ ...sample, submitted: s.submitted, dispatched: s.dispatched, finished: s.finished, waitArrived: s.waitArrived });
  }
  const summarize = (id: string, what: string, values: number[]): HopSummary => {
    const sorted = values.sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
    return { id, what, p50: round(quantileSorted(sorted, 0.5)), p90: round(quantileSorted(sorted, 0.9)), p99: round(quantileSorted(sorted, 0.99)), mean: round(mean) };
  };
  const hop = (h: { id: string; from: StampName; to: StampName; what: string }): HopSummary =>
    summarize(h.id, h.what, joined.map((j) => j[h.to] - j[h.from]));
  return {
    samples: samples.length,
    used: joined.length,
    lateWaits,
    total: summarize("round-trip", "submit() called → result() resolved", joined.map((j) => j.result - j.call)),
    hops: HOPS.map(hop),
    sideHops: SIDE_HOPS.map(hop),
  };
}
