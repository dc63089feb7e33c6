import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "../lib/paths.js";
import { SourceMap, type OriginalPosition } from "./source-map.js";

/** A frame of a V8 .cpuprofile. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** The parts of a V8 .cpuprofile this reads (times in µs of the monotonic clock, as `process.hrtime`). */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }[];
  samples: number[];
  /** µs between consecutive samples (the first: since startTime). */
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The .cpuprofile files in a directory (one per process of a role), parsed; none if it does not exist. */
export function readProfiles(dir: string): CpuProfile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile);
}

/** One function's share of a process's samples. */
export interface Hotspot {
  function: string;
  /** file:line, .ts where a source map says so, relative to the repository. */
  location: string;
  /** Share of all samples (idle included). */
  percent: number;
  /** Share of the samples in which the process was busy (idle excluded). */
  busyPercent: number;
  /** The callers that account for most of its samples, e.g. "writeFields (node_modules/…:29) 60%". */
  callers: string[];
}

/** Where a process's busy time went, by area (our code by folder, libraries by package). */
export interface AreaShare {
  area: string;
  busyPercent: number;
}

export interface ProfileSummary {
  role: string;
  files: number;
  seconds: number;
  /** Share of samples not idle. */
  busyPercent: number;
  top: Hotspot[];
  /** Our own functions (not libraries) by inclusive time: the entry points that cost the most, callees included. */
  ownInclusive: { function: string; location: string; busyPercent: number }[];
  areas: AreaShare[];
}

const maps = new Map<string, SourceMap | undefined>();
/** Where the bundled commands are (scripts/bundle-bins.mjs). */
const BUNDLES = `${ROOT}dist/bin/`;

/** The file path of a frame's URL, if it is a file. */
export function pathOf(url: string): string | undefined {
  if (url.startsWith("file://")) return fileURLToPath(url);
  if (url.startsWith("/")) return url;
  return undefined;
}

/** The original position of a frame's line and column, when a source map is beside its file. */
function original(path: string, line: number, column: number): OriginalPosition | undefined {
  if (!maps.has(path)) maps.set(path, path.includes("/node_modules/") ? undefined : SourceMap.forFile(path));
  return maps.get(path)?.lookup(line, column);
}

/**
 * The file a frame's code came from: its own file, or, in the bundled
 * commands (dist/bin/, see scripts/bundle-bins.mjs), the module the bundle
 * took it from, through the bundle's source map (a TypeScript source of
 * ours, or a file in node_modules).
 */
export function sourcePathOf(frame: CallFrame): string | undefined {
  const path = pathOf(frame.url);
  if (path === undefined || !path.startsWith(BUNDLES)) return path;
  return original(path, frame.lineNumber, frame.columnNumber)?.source ?? path;
}

/** file:line of a call frame, mapped to TypeScript when a source map is beside the file. */
function locate(url: string, line: number, column: number): string {
  if (url === "") return "";
  const path = pathOf(url);
  if (path === undefined) return `${url}:${line + 1}`;
  const position = original(path, line, column);
  if (position !== undefined) return `${relative(ROOT, position.source)}:${position.line}`;
  return `${relative(ROOT, path)}:${line + 1}`;
}

/** The area a frame belongs to: a folder of ours (server/, client/…), a package, node internals, or V8. */
function areaOf(frame: CallFrame): string {
  const { functionName, url } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const path = sourcePathOf(frame) ?? url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  const rel = relative(ROOT, path);
  const parts = rel.split("/");
  return parts[0] === "dist" ? `${parts[1]}/` : `${parts[0]}/`;
}

/** Whether a frame is the project's own code (not a library, not Node, not bench/). */
function isOwn(frame: CallFrame): boolean {
  const path = sourcePathOf(frame);
  return path !== undefined && path.startsWith(ROOT) && !path.includes("/node_modules/") && !path.startsWith(`${ROOT}bench/`);
}

/** Top self-time functions over the .cpuprofile files of one role (e.g. all fw-worker processes). */
export function summarizeProfiles(dir: string, role: string, top = 15): ProfileSummary | undefined {
  const profiles = readProfiles(dir);
  if (profiles.length === 0) return undefined;
  const byFunction = new Map<string, { fn: string; location: string; hits: number; callers: Map<string, number> }>();
  const byArea = new Map<string, number>();
  const inclusive = new Map<string, { fn: string; location: string; hits: number }>();
  let total = 0;
  let idle = 0;
  let micros = 0;
  for (const profile of profiles) {
    micros += profile.endTime - profile.startTime;
    const hits = new Map<number, number>();
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    const parent = new Map<number, CallFrame>();
    const parentId = new Map<number, number>();
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) {
        parent.set(child, node.callFrame);
        parentId.set(child, node.id);
      }
    }
    // Inclusive samples of our own functions: each sample counts once for every distinct own frame on its stack.
    for (const [id, n] of hits) {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parentId.get(at)) {
        const frame = byId.get(at)!.callFrame;
        if (frame.functionName === "(idle)") break;
        if (!isOwn(frame)) continue;
        const location = locate(frame.url, frame.lineNumber, frame.columnNumber);
        const key = `${frame.functionName || "(anonymous)"}@${location}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const entry = inclusive.get(key) ?? { fn: frame.functionName || "(anonymous)", location, hits: 0 };
        entry.hits += n;
        inclusive.set(key, entry);
      }
    }
    for (const node of profile.nodes) {
      const n = hits.get(node.id) ?? 0;
      if (n === 0) continue;
      const { functionName, url, lineNumber, columnNumber } = node.callFrame;
      total += n;
      if (functionName === "(idle)") {
        idle += n;
        continue;
      }
      const location = locate(url, lineNumber, columnNumber);
      const key = `${functionName}@${location}`;
      const entry = byFunction.get(key) ?? { fn: functionName || "(anonymous)", location, hits: 0, callers: new Map<string, number>() };
      entry.hits += n;
      const caller = parent.get(node.id);
      if (caller !== undefined) {
        const name = `${caller.functionName || "(anonymous)"} (${locate(caller.url, caller.lineNumber, caller.columnNumber)})`;
        entry.callers.set(name, (entry.callers.get(name) ?? 0) + n);
      }
      byFunction.set(key, entry);
      const area = areaOf(node.callFrame);
      byArea.set(area, (byArea.get(area) ?? 0) + n);
    }
  }
  const busy = total - idle;
  const pct = (n: number, of: number): number => (of > 0 ? Math.round((n / of) * 1000) / 10 : 0);
  return {
    role,
    files: profiles.length,
    seconds: Math.round(micros / 1e4) / 100,
    busyPercent: pct(busy, total),
    top: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((e) => ({
        function: e.fn,
        location: e.location,
        percent: pct(e.hits, total),
        busyPercent: pct(e.hits, busy),
        callers: [...e.callers.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 2)
          .map(([name, n]) => `${name} ${Math.round((n / e.hits) * 100)}%`),
      })),
    ownInclusive: [...inclusive.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((e) => ({ function: e.fn, location: e.location, busyPercent: pct(e.hits, busy) })),
    areas: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([area, n]) => ({ area, busyPercent: pct(n, busy) })),
  };
}

/** A profile summary as Markdown. */
export function profileTable(summary: ProfileSummary): string {
  const head = `${summary.role}: ${summary.files} process(es), ${summary.seconds}s profiled, busy ${summary.busyPercent}% of samples`;
  const rows = summary.top.map((h) => `| ${h.busyPercent.toFixed(1)} | ${h.percent.toFixed(1)} | \`${h.function}\` | ${h.location} | ${h.callers.join("; ")} |`);
  const areas = summary.areas.map((a) => `${a.area} ${a.busyPercent}%`).join(", ");
  const own = summary.ownInclusive.slice(0, 10).map((h) => `| ${h.busyPercent.toFixed(1)} | \`${h.function}\` | ${h.location} |`);
  return [
    head, "", "Self time:", "", "| % busy | % all | function | file:line | main callers |", "|---:|---:|---|---|---|", ...rows,
    "", "Our own code, inclusive time (callees included):", "", "| % busy | function | file:line |", "|---:|---|---|", ...own,
    "", `By area (self time, of busy samples): ${areas}`,
  ].join("\n");
}
