/** Formatting for people: counts, rates, durations and "3 s ago". */

const integer = new Intl.NumberFormat("en-US");

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return integer.format(n);
}

/** Tasks per second with sensible precision: "0", "0.4", "12.5", "1,204". */
export function rate(perSecond: number): string {
  if (perSecond === 0) return "0";
  if (perSecond < 10) return perSecond.toFixed(1);
  return integer.format(Math.round(perSecond));
}

/** 0.0375 → "3.8%". */
export function percent(fraction: number): string {
  if (fraction === 0) return "0%";
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`;
}

/** A span of time: "850 ms", "4.2 s", "3 m 12 s", "2 h 5 m". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long ago, coarsely: "just now", "12 s ago", "5 m ago", "3 h ago". */
export function ago(time: Date | number | undefined, now: number): string {
  if (time === undefined) return "—";
  const ms = now - (typeof time === "number" ? time : time.getTime());
  if (ms < 1500) return "just now";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** A full local date and time, for tooltips and the detail view. */
export function timestamp(time: Date | undefined): string {
  if (time === undefined) return "—";
  return time.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** A clock time for chart axes: "14:05:30". */
export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false });
}

/** A task id as shown on screen: whole when short (ours are), else its distinct end. */
export function shortId(id: string): string {
  // Ids are a per-run prefix plus a counter: short enough to show whole; anything longer keeps its distinct end.
  return id.length > 17 ? `…${id.slice(-8)}` : id;
}
