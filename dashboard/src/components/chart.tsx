import { useState } from "preact/hooks";
import { clock } from "../model/format.js";

/** One line (or stacked area) of a {@link Chart}. */
export interface Series {
  label: string;
  /** A CSS colour, e.g. "var(--ok)". */
  color: string;
  values: readonly number[];
}

/** What {@link Chart} draws. */
export interface ChartProps {
  title: string;
  /** Said after the title, smaller: what the title's number covers ("13 of 310 finished, last 10 s"). */
  detail?: string;
  /** Greys the title and legend: too little data for the number to mean much. */
  dim?: boolean;
  /** Sample times (ms since epoch), oldest first; one per value of each series. */
  times: readonly number[];
  series: readonly Series[];
  /** Stack the series as filled areas (parts of a whole) instead of lines. */
  stacked?: boolean;
  format: (value: number) => string;
  /** The right end of the time axis (now). */
  end: number;
  /** How much time the chart spans at most (default ten minutes; less while there is less history). */
  spanMs?: number;
  /** The smallest top of the value axis, so a quiet system does not look busy. */
  minMax?: number;
}

const W = 600;
const H = 120;
/** Samples further apart than this are not joined (the control plane was down). */
const GAP_MS = 3500;

/**
 * A small time-series chart drawn as SVG paths: no chart library, a few
 * hundred points at most. Hovering shows the values at that second.
 */
export function Chart(props: ChartProps) {
  // Two minutes at least, ten at most, in whole minutes: a young control plane's history stays readable.
  const history = props.times.length > 0 ? props.end - props.times[0]! : 0;
  const span = Math.min(props.spanMs ?? 10 * 60_000, Math.max(2 * 60_000, Math.ceil(history / 60_000) * 60_000));
  const start = props.end - span;
  const [hover, setHover] = useState<number | undefined>(undefined);
  const first = props.times.findIndex((t) => t >= start);
  const from = first < 0 ? props.times.length : first;
  const times = props.times.slice(from);
  const series = props.series.map((s) => ({ ...s, values: s.values.slice(from) }));

  // Stacked: each series sits on the ones before it.
  const tops = series.map(() => new Array<number>(times.length).fill(0));
  for (let i = 0; i < times.length; i++) {
    let sum = 0;
    series.forEach((s, k) => {
      sum = props.stacked ? sum + (s.values[i] ?? 0) : (s.values[i] ?? 0);
      tops[k]![i] = sum;
    });
  }
  const peak = Math.max(props.minMax ?? 1, ...tops.flatMap((t) => t));
  const max = niceCeiling(peak);
  const x = (t: number): number => ((t - start) / span) * W;
  const y = (v: number): number => H - (v / max) * H;

  const line = (values: readonly number[]): string => {
    let d = "";
    for (let i = 0; i < times.length; i++) {
      const joined = i > 0 && times[i]! - times[i - 1]! <= GAP_MS;
      d += `${joined ? "L" : "M"}${x(times[i]!).toFixed(1)},${y(values[i]!).toFixed(1)}`;
    }
    return d;
  };
  const area = (k: number): string => {
    // Closed shapes per run of joined samples: top edge forward, base edge back.
    let d = "";
    let runStart = 0;
    for (let i = 0; i <= times.length; i++) {
      const ends = i === times.length || (i > runStart && times[i]! - times[i - 1]! > GAP_MS);
      if (!ends) continue;
      if (i > runStart) {
        for (let j = runStart; j < i; j++) d += `${j === runStart ? "M" : "L"}${x(times[j]!).toFixed(1)},${y(tops[k]![j]!).toFixed(1)}`;
        for (let j = i - 1; j >= runStart; j--) d += `L${x(times[j]!).toFixed(1)},${y(k === 0 ? 0 : tops[k - 1]![j]!).toFixed(1)}`;
        d += "Z";
      }
      runStart = i;
    }
    return d;
  };

  const onMove = (e: PointerEvent): void => {
    const box = (e.currentTarget as SVGElement).getBoundingClientRect();
    const t = start + ((e.clientX - box.left) / box.width) * span;
    let best: number | undefined;
    for (let i = 0; i < times.length; i++) if (best === undefined || Math.abs(times[i]! - t) < Math.abs(times[best]! - t)) best = i;
    setHover(best !== undefined && Math.abs(times[best]! - t) < 5000 ? best : undefined);
  };

  const latest = series.map((s) => s.values[s.values.length - 1] ?? 0);
  return (
    <figure class="chart">
      <figcaption class={props.dim ? "chart-dim" : undefined}>
        <span class="chart-title">
          {props.title}
          {props.detail && <span class="chart-detail"> · {props.detail}</span>}
        </span>
        <span class="chart-legend">
          {series.map((s, k) => (
            <span key={s.label}>
              <i style={{ background: s.color }} />
              {s.label} {times.length > 0 ? props.format(hover !== undefined ? s.values[hover]! : latest[k]!) : "—"}
            </span>
          ))}
        </span>
      </figcaption>
      <div class="chart-plot">
        <span class="chart-max">{props.format(max)}</span>
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${props.title} over the last ${span / 60_000} minutes`} onPointerMove={onMove} onPointerLeave={() => setHover(undefined)}>
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} class="chart-grid" x1="0" x2={W} y1={H * f} y2={H * f} />
          ))}
          {props.stacked
            ? series.map((s, k) => <path key={s.label} d={area(k)} fill={s.color} fill-opacity="0.55" stroke="none" />)
            : series.map((s) => <path key={s.label} d={line(s.values)} fill="none" stroke={s.color} stroke-width="1.6" vector-effect="non-scaling-stroke" />)}
          {hover !== undefined && <line class="chart-cursor" x1={x(times[hover]!)} x2={x(times[hover]!)} y1="0" y2={H} />}
        </svg>
        {times.length === 0 && <span class="chart-empty">No data yet</span>}
      </div>
      <div class="chart-axis">
        <span>{hover !== undefined ? clock(times[hover]!) : `${span / 60_000} min ago`}</span>
        <span>now</span>
      </div>
    </figure>
  );
}

/** Rounds up to 1, 2 or 5 times a power of ten, for a readable axis top. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}
