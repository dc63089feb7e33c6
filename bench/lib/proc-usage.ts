import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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
    const fields = statFields(pid);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { at: performance.now(), cpuSeconds: (utime + stime) / clockTicks(), rssBytes: kb("VmRSS"), peakRssBytes: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is the state, [1] the parent pid. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * A snapshot of a process tree one level deep: a server that forks a process
 * per connection and helpers (PostgreSQL's postmaster). CPU counts the root,
 * its live children, and the children it has reaped (cutime + cstime), so
 * short-lived children are not missed. Memory is the sum of proportional set
 * sizes (Pss), which shares shared memory out instead of counting it per
 * process; there is no peak for a tree (NaN).
 */
export function snapshotTree(root: number): UsageSnapshot | undefined {
  try {
    const ticks = clockTicks();
    const rootFields = statFields(root);
    let cpuTicks = Number(rootFields[11]) + Number(rootFields[12]) + Number(rootFields[13]) + Number(rootFields[14]);
    let pssBytes = pss(root);
    for (const entry of readdirSync("/proc")) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === root) continue;
      try {
        const fields = statFields(pid);
        if (Number(fields[1]) !== root) continue;
        cpuTicks += Number(fields[11]) + Number(fields[12]);
        pssBytes += pss(pid);
      } catch {
        // exited while we looked
      }
    }
    return { at: performance.now(), cpuSeconds: cpuTicks / ticks, rssBytes: pssBytes, peakRssBytes: Number.NaN };
  } catch {
    return undefined;
  }
}

function pss(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
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
