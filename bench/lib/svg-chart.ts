/**
 * A small SVG writer for the benchmark's charts: line charts in stacked
 * panels sharing one x axis (linear or log), and horizontal stacked bars.
 * Plain strings, no dependency, the same bytes for the same numbers (so a
 * committed chart diffs cleanly). Why not a charting library: see
 * bench/README.md, "Scaling".
 */

/** One line: a label (legend), a colour, and its points (a NaN y leaves a gap). */
export interface Series {
  label: string;
  color: string;
  points: readonly { x: number; y: number }[];
}

/** One panel of a line chart: its own y axis. */
export interface Panel {
  title: string;
  series: readonly Series[];
  /** Log y axis; default: when the values span more than 20×. */
  log?: boolean;
}

export interface LineChart {
  title: string;
  /** Lines under the title (machine, versions, load, quick mode…). */
  notes: readonly string[];
  xLabel: string;
  xLog: boolean;
  /** The x values to mark, with their labels. */
  xTicks: readonly { value: number; label: string }[];
  panels: readonly Panel[];
}

export interface BarChart {
  title: string;
  notes: readonly string[];
  /** What the bar lengths are, e.g. "CPU µs per task". */
  unit: string;
  /** The segments' names and colours, in stacking order. */
  keys: readonly { label: string; color: string }[];
  bars: readonly { label: string; values: readonly number[] }[];
}

const WIDTH = 760;
const LEFT = 78;
const RIGHT = 24;
const PANEL_HEIGHT = 190;
const PANEL_GAP = 46;
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"`;

/** Colours that stay apart for the colour-blind (Okabe–Ito). */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999", "#F0E442"] as const;

/** A line chart with one panel per metric, the x axis shared. */
export function lineChartSvg(chart: LineChart): string {
  const legendY = 44 + chart.notes.length * 16 + 8;
  const head = legendY + 40;
  const height = head + chart.panels.length * (PANEL_HEIGHT + PANEL_GAP) + 10;
  const xs = chart.xTicks.map((t) => t.value);
  const x = scale(Math.min(...xs), Math.max(...xs), LEFT + 12, WIDTH - RIGHT - 12, chart.xLog);
  const out = [open(WIDTH, height), ...header(chart.title, chart.notes)];
  const labels = new Map<string, string>();
  for (const panel of chart.panels) for (const s of panel.series) labels.set(s.label, s.color);
  out.push(...legend([...labels].map(([label, color]) => ({ label, color })), legendY));
  chart.panels.forEach((panel, i) => {
    const top = head + i * (PANEL_HEIGHT + PANEL_GAP);
    const bottom = top + PANEL_HEIGHT;
    const values = panel.series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => Number.isFinite(v) && v > 0);
    const lo = values.length > 0 ? Math.min(...values) : 1;
    const hi = values.length > 0 ? Math.max(...values) : 1;
    const log = panel.log ?? hi / lo > 20;
    const ticks = log ? logTicks(lo, hi) : linearTicks(hi);
    const y = scale(ticks[0]!, ticks[ticks.length - 1]!, bottom, top, log);
    out.push(`<text x="${LEFT}" y="${top - 10}" font-weight="600">${esc(panel.title)}${log ? " (log scale)" : ""}</text>`);
    for (const t of ticks) {
      out.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${LEFT - 6}" y="${f(y(t) + 4)}" text-anchor="end" fill="#444">${compact(t)}</text>`);
    }
    for (const t of chart.xTicks) {
      out.push(`<line x1="${f(x(t.value))}" x2="${f(x(t.value))}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${f(x(t.value))}" y="${bottom + 16}" text-anchor="middle" fill="#444">${esc(t.label)}</text>`);
    }
    out.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${bottom}" y2="${bottom}" stroke="#888"/>`);
    for (const s of panel.series) {
      const points = s.points.filter((p) => Number.isFinite(p.y) && (!log || p.y > 0));
      if (points.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.map((p) => `${f(x(p.x))},${f(y(p.y))}`).join(" ")}"/>`);
      for (const p of points) {
        out.push(`<circle cx="${f(x(p.x))}" cy="${f(y(p.y))}" r="3.5" fill="${s.color}"><title>${esc(s.label)}: ${compact(p.y)}</title></circle>`);
      }
    }
  });
  out.push(`<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${height - 8}" text-anchor="middle" fill="#444">${esc(chart.xLabel)}${chart.xLog ? " (log scale)" : ""}</text>`);
  return `${out.join("\n")}\n</svg>\n`;
}

/** Horizontal bars, one per label, each split into stacked segments. */
export function barChartSvg(chart: BarChart): string {
  const legendY = 44 + chart.notes.length * 16 + 8;
  const head = legendY + 16;
  const barHeight = 26;
  const left = 110;
  const height = head + chart.bars.length * (barHeight + 14) + 40;
  const total = Math.max(...chart.bars.map((b) => b.values.reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0)), 1e-9);
  const ticks = linearTicks(total);
  const x = scale(0, ticks[ticks.length - 1]!, left, WIDTH - RIGHT, false);
  const out = [open(WIDTH, height), ...header(chart.title, chart.notes), ...legend(chart.keys, legendY)];
  const axis = head + chart.bars.length * (barHeight + 14);
  for (const t of ticks) {
    out.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${head}" y2="${axis}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${f(x(t))}" y="${axis + 16}" text-anchor="middle" fill="#444">${compact(t)}</text>`);
  }
  chart.bars.forEach((bar, i) => {
    const top = head + i * (barHeight + 14) + 7;
    out.push(`<text x="${left - 8}" y="${top + barHeight / 2 + 4}" text-anchor="end">${esc(bar.label)}</text>`);
    let at = 0;
    bar.values.forEach((v, k) => {
      if (!Number.isFinite(v) || v <= 0) return;
      const key = chart.keys[k]!;
      out.push(`<rect x="${f(x(at))}" y="${top}" width="${f(x(at + v) - x(at))}" height="${barHeight}" fill="${key.color}"><title>${esc(key.label)}: ${compact(v)}</title></rect>`);
      at += v;
    });
    out.push(`<text x="${f(x(at) + 6)}" y="${top + barHeight / 2 + 4}" fill="#444">${compact(at)}</text>`);
  });
  out.push(`<text x="${(left + WIDTH - RIGHT) / 2}" y="${height - 8}" text-anchor="middle" fill="#444">${esc(chart.unit)}</text>`);
  return `${out.join("\n")}\n</svg>\n`;
}

function open(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">\n<rect width="100%" height="100%" fill="#fff"/>`;
}

function header(title: string, notes: readonly string[]): string[] {
  return [`<text x="${LEFT}" y="24" font-size="15" font-weight="700">${esc(title)}</text>`, ...notes.map((n, i) => `<text x="${LEFT}" y="${44 + i * 16}" fill="#555" font-size="11">${esc(n)}</text>`)];
}

function legend(keys: readonly { label: string; color: string }[], y: number): string[] {
  let x = LEFT;
  return keys.map((k) => {
    const item = `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${k.color}"/><text x="${x + 16}" y="${y + 1}">${esc(k.label)}</text>`;
    x += 24 + k.label.length * 7;
    return item;
  });
}

/** Maps [lo, hi] onto [from, to], linearly or by log10. */
function scale(lo: number, hi: number, from: number, to: number, log: boolean): (v: number) => number {
  const t = log ? Math.log10 : (v: number) => v;
  const a = t(lo);
  const b = t(hi);
  return (v) => (b === a ? (from + to) / 2 : from + ((t(v) - a) / (b - a)) * (to - from));
}

/** 0 to a round number above `hi`, in 1-2-5 steps, about five of them. */
function linearTicks(hi: number): number[] {
  if (!(hi > 0)) return [0, 1];
  const raw = hi / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < hi + step - 1e-9 * step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten around [lo, hi] (at least two). */
function logTicks(lo: number, hi: number): number[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.max(first + 1, Math.ceil(Math.log10(hi)));
  return Array.from({ length: last - first + 1 }, (_, i) => 10 ** (first + i));
}

/** 1,500 → "1.5K", 2,000,000 → "2M", 0.25 → "0.25". */
export function compact(v: number): string {
  const abs = Math.abs(v);
  const trim = (n: number): string => String(Number(n.toPrecision(3)));
  if (abs >= 1e6) return `${trim(v / 1e6)}M`;
  if (abs >= 1e3) return `${trim(v / 1e3)}K`;
  return trim(v);
}

function f(v: number): string {
  return v.toFixed(1);
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
