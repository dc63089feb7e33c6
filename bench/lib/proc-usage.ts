import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** CPU time and memory of one process at one moment, read from /proc (Linux). */
export interface UsageSnapshot {
  at: number;
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Peak resident set size since start (VmHWM), bytes. */
  peakRssBytes: number;
}

/** What a process used between two snapshots. */
export interface UsageDelta {
  cpuSeconds: number;
  /** Average share of one core over the window (1 = one core busy all the time). */
  cores: number;
  rssMB: number;
  peakRssMB: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // the Linux default
    }
  }
  return ticksPerSecond;
}

/** A snapshot of a process's CPU and memory, or undefined if it is gone or /proc is missing. */
export function snapshot(pid: number): UsageSnapshot | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { at: performance.now(), cpuSeconds: (utime + stime) / clockTicks(), rssBytes: kb("VmRSS"), peakRssBytes: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** The usage between two snapshots of the same process. */
export function delta(from: UsageSnapshot | undefined, to: UsageSnapshot | undefined): UsageDelta | undefined {
  if (from === undefined || to === undefined) return undefined;
  const seconds = (to.at - from.at) / 1000;
  const cpuSeconds = to.cpuSeconds - from.cpuSeconds;
  return {
    cpuSeconds: round(cpuSeconds),
    cores: seconds > 0 ? round(cpuSeconds / seconds) : 0,
    rssMB: round(to.rssBytes / 2 ** 20, 1),
    peakRssMB: round(to.peakRssBytes / 2 ** 20, 1),
  };
}

function round(value: number, decimals = 3): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
