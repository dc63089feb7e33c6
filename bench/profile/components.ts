import { relative } from "node:path";
import { ROOT } from "../lib/paths.js";
import { readProfiles, sourcePathOf, type CallFrame, type CpuProfile } from "./summarize.js";

/**
 * The components CPU per task is split into, in table order. A sample counts
 * for the component of the function it was in (self time); a function that
 * tells nothing by itself (a V8 builtin or native such as `JSON.parse` or
 * `Buffer.from`, a Node internal outside the network and text-encoding code)
 * counts for the nearest caller that does.
 */
export const COMPONENTS = ["transport", "codec", "services", "engine", "store", "library", "GC", "other"] as const;
export type Component = (typeof COMPONENTS)[number];

/** What each component holds (the table's footnote). */
export const COMPONENT_NOTES: Record<Component, string> = {
  transport: "@grpc/grpc-js, Node's HTTP/2, net and stream internals, common/transport and server/transport",
  codec: "@bufbuild/protobuf, the generated hot codecs (gen/, common/wire), grpc-definition.ts, TextEncoder/TextDecoder",
  services: "server/services: the Session, Dispatch and ReportResults handlers between transport and engine",
  engine: "server/engine (dispatcher, attempts, waiters, validation), server/loops, server/schedules, server/ha",
  store: "server/store (task records, queues, history, retention)",
  library: "worker/ and client/ (the worker runtime and the Client in their processes), common/ outside transport and wire",
  GC: "V8's garbage collector (main-thread pauses as sampled)",
  other: "(program), timers and microtask plumbing, the bench code, other packages (pino, tsx)",
};

/**
 * Functions measured inclusively (their own time and everything they call),
 * across components: the control plane's dispatch round, and within it the
 * search for a worker's next task, the part that could grow with task names.
 */
export const INCLUSIVE = {
  /** Dispatcher.runOnce: one dispatch round (match, record the attempt, encode, flush to the worker streams). */
  dispatchRound: { file: "server/engine/dispatcher.", functionName: "runOnce" },
  /** Queues.take: finding and taking the oldest takeable task of the names a worker serves. */
  queueTake: { file: "server/store/queues.", functionName: "take" },
} as const;
export type InclusiveId = keyof typeof INCLUSIVE;

/** Where the busy CPU of one role went over a window: share and µs per task of each component. */
export interface ComponentSplit {
  role: string;
  /** Busy samples in the window, over all of the role's processes. */
  samples: number;
  /** µs of CPU per task of the role (from /proc over the same window), split by the samples' shares. */
  cpuUsPerTask: number;
  shares: Record<Component, number>;
  usPerTask: Record<Component, number>;
  /** µs per task spent in (and under) each {@link INCLUSIVE} function, from the same samples. */
  inclusiveUsPerTask: Record<InclusiveId, number>;
}

/** Whether a frame is one of the {@link INCLUSIVE} functions. */
function inclusiveId(frame: CallFrame): InclusiveId | undefined {
  const path = sourcePathOf(frame);
  if (path === undefined) return undefined;
  const rel = relative(ROOT, path).replace(/^dist\//, "");
  for (const [id, f] of Object.entries(INCLUSIVE) as [InclusiveId, (typeof INCLUSIVE)[InclusiveId]][]) {
    if (rel.startsWith(f.file) && (frame.functionName === f.functionName || frame.functionName.endsWith(`.${f.functionName}`))) return id;
  }
  return undefined;
}

/** The component of a frame by itself, or undefined when it should take its caller's. */
function ownComponent(frame: CallFrame): Component | undefined {
  const { functionName, url } = frame;
  if (url === "") {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)" || functionName === "(root)") return "other";
    return undefined; // a builtin or native: its caller's
  }
  if (url.startsWith("node:")) {
    if (/^node:(internal\/)?(http2|net|stream|_stream|tls|dgram|internal\/stream_base_commons|internal\/streams)/.test(url)) return "transport";
    if (url.startsWith("node:internal/encoding")) return "codec";
    return undefined; // Buffer, events, timers… : whoever called them
  }
  const path = sourcePathOf(frame) ?? url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) {
    if (pkg[1] === "@grpc/grpc-js" || pkg[1]!.startsWith("@connectrpc/")) return "transport";
    if (pkg[1] === "@bufbuild/protobuf") return "codec";
    return "other";
  }
  const rel = relative(ROOT, path).replace(/^dist\//, "");
  if (rel.startsWith("gen/") || rel.startsWith("common/wire/") || rel.startsWith("common/transport/grpc-definition") || rel.startsWith("common/transport/utf8-encoding")) return "codec";
  if (rel.startsWith("common/transport/") || rel.startsWith("server/transport/")) return "transport";
  if (rel.startsWith("server/services/")) return "services";
  if (rel.startsWith("server/store/")) return "store";
  if (/^server\/(engine|loops|schedules|ha)\//.test(rel)) return "engine";
  if (/^(worker|client|common)\//.test(rel)) return "library";
  return "other";
}

/** Busy samples per component (and under each inclusive function) of one profile, only those taken between `from` and `to` (µs, the profile's clock). */
function countWindow(profile: CpuProfile, from: number, to: number, into: Map<Component, number>, under: Map<InclusiveId, number>): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const memo = new Map<number, Component | "idle">();
  const componentOf = (id: number): Component | "idle" => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    let found: Component | "idle";
    if (frame.functionName === "(idle)") found = "idle";
    else {
      const own = ownComponent(frame);
      const parent = parentOf.get(id);
      found = own ?? (parent === undefined ? "other" : componentOf(parent));
      if (found === "idle") found = "other";
    }
    memo.set(id, found);
    return found;
  };
  const insideMemo = new Map<number, readonly InclusiveId[]>();
  const insideOf = (id: number): readonly InclusiveId[] => {
    const known = insideMemo.get(id);
    if (known !== undefined) return known;
    const parent = parentOf.get(id);
    const above = parent === undefined ? [] : insideOf(parent);
    const own = inclusiveId(byId.get(id)!.callFrame);
    const found = own === undefined || above.includes(own) ? above : [...above, own];
    insideMemo.set(id, found);
    return found;
  };
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    const node = profile.samples[i]!;
    const c = componentOf(node);
    if (c === "idle") continue;
    into.set(c, (into.get(c) ?? 0) + 1);
    for (const f of insideOf(node)) under.set(f, (under.get(f) ?? 0) + 1);
  }
}

/**
 * Splits a role's CPU per task by component, from the .cpuprofile files in
 * `dir` restricted to the window [from, to] (µs of the monotonic clock, as
 * `process.hrtime`; V8's profiles use the same clock). The shares are of the
 * busy samples of the main threads; `cpuUsPerTask` (from /proc, all threads)
 * is split in those proportions. Undefined without samples in the window.
 */
export function componentSplit(dir: string, role: string, window: { from: number; to: number }, cpuUsPerTask: number): ComponentSplit | undefined {
  const counts = new Map<Component, number>();
  const under = new Map<InclusiveId, number>();
  for (const profile of readProfiles(dir)) countWindow(profile, window.from, window.to, counts, under);
  const samples = [...counts.values()].reduce((a, b) => a + b, 0);
  if (samples === 0) return undefined;
  const shares = {} as Record<Component, number>;
  const usPerTask = {} as Record<Component, number>;
  for (const c of COMPONENTS) {
    shares[c] = Math.round(((counts.get(c) ?? 0) / samples) * 1000) / 1000;
    usPerTask[c] = Math.round(((counts.get(c) ?? 0) / samples) * cpuUsPerTask * 10) / 10;
  }
  const inclusiveUsPerTask = {} as Record<InclusiveId, number>;
  for (const f of Object.keys(INCLUSIVE) as InclusiveId[]) inclusiveUsPerTask[f] = Math.round(((under.get(f) ?? 0) / samples) * cpuUsPerTask * 10) / 10;
  return { role, samples, cpuUsPerTask, shares, usPerTask, inclusiveUsPerTask };
}
