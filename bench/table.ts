import type { BreakdownSummary } from "./breakdown/analyze.js";
import type { RatioSpec, TableRow } from "./summary.js";
import { SYSTEM_LABELS, type SystemName } from "./systems/system.js";

/** A number for a table cell: thousands separated, 2–3 significant digits below 1,000; "—" when missing. */
export function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  if (Number.isInteger(value)) return value.toLocaleString("en"); // counts, and rates already rounded
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en");
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A Markdown table with padded columns; `rightAligned` holds the numeric columns' indices. */
export function render(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/**
 * The main table as Markdown: a column per system (medians), then a column
 * per ratio, then which direction is better.
 */
export function resultTable(rows: readonly TableRow[], systems: readonly SystemName[], ratios: readonly RatioSpec[]): string {
  const first = 4;
  const numeric = new Set(Array.from({ length: systems.length + ratios.length }, (_, i) => first + i));
  return render(
    ["scenario", "#", "metric", "unit", ...systems.map((s) => SYSTEM_LABELS[s]), ...ratios.map((r) => r.label), "better"],
    rows.map((r) => [
      r.scenario,
      r.covers,
      r.metric,
      r.unit,
      ...systems.map((s) => fmt(r.values[s])),
      ...ratios.map((ratio) => (r.ratios[ratio.id] === undefined ? "—" : `${r.ratios[ratio.id]!.toFixed(2)}×`)),
      r.better,
    ]),
    numeric,
  );
}

/** The latency breakdown as Markdown: one row per hop. */
export function breakdownTable(b: BreakdownSummary): string {
  const rows = [...b.hops, b.total, ...b.sideHops].map((h) => [h.id, fmt(h.p50), fmt(h.p90), fmt(h.p99), fmt(h.mean), h.what]);
  return render(["hop", "p50 ms", "p90 ms", "p99 ms", "mean ms", "what"], rows, new Set([1, 2, 3, 4]));
}
