import type { BreakdownSummary } from "./breakdown/analyze.js";
import type { TableRow } from "./summary.js";

function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en");
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function render(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** The main table as Markdown: medians per system and the fastworker ÷ BullMQ ratio. */
export function resultTable(rows: readonly TableRow[]): string {
  return render(
    ["scenario", "#", "metric", "unit", "fastworker", "BullMQ", "fw ÷ BullMQ", "better"],
    rows.map((r) => [r.scenario, r.covers, r.metric, r.unit, fmt(r.fastworker), fmt(r.bullmq), r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`, r.better]),
    new Set([4, 5, 6]),
  );
}

/** The latency breakdown as Markdown: one row per hop. */
export function breakdownTable(b: BreakdownSummary): string {
  const rows = [...b.hops, b.total, ...b.sideHops].map((h) => [h.id, fmt(h.p50), fmt(h.p90), fmt(h.p99), fmt(h.mean), h.what]);
  return render(["hop", "p50 ms", "p90 ms", "p99 ms", "mean ms", "what"], rows, new Set([1, 2, 3, 4]));
}
