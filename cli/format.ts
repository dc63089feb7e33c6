import { isStranded, type StatsInfo, type TaskInfo, type TaskNameInfo, type WorkerInfo } from "../client/task-info.js";
import { attemptLabel, attemptSeries, attemptSummary, FEW_TO_TELL, progressLabel } from "../client/task-summary.js";
import { safeJson, safeLine, safeText } from "./terminal-text.js";

// Everything printed here that a worker or a submitter chose (names, hosts, messages, args,
// results) goes through terminal-text.ts: it cannot move the cursor, retitle or clear the screen.

/** Prints a value for scripts: JSON, one document (control characters escaped, C1 too). */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(JSON.stringify(value, null, 2))}\n`);
}

/** A result value for people: strings bare (newlines kept, other controls removed), everything else as JSON. */
export function formatResult(value: unknown): string {
  return typeof value === "string" ? safeText(value) : json(value, 2);
}

/** JSON for people's output: C1 controls escaped too. */
function json(value: unknown, indent?: number): string {
  return safeJson(JSON.stringify(value, null, indent));
}

const ago = (date: Date | undefined): string => {
  if (date === undefined) return "-";
  const s = (Date.now() - date.getTime()) / 1000;
  if (s < 1) return "now";
  if (s < 120) return `${s.toFixed(0)}s ago`;
  if (s < 7200) return `${(s / 60).toFixed(0)}m ago`;
  return `${(s / 3600).toFixed(0)}h ago`;
};

/** A task's status for people. */
export function formatTask(task: TaskInfo): string {
  const summary = attemptSummary(task);
  const lines = [
    `id:        ${task.id}`,
    `task:      ${safeLine(task.name)}`,
    `state:     ${task.state}${task.statusMessage ? ` (${safeLine(task.statusMessage)})` : ""}`,
    `priority:  ${task.priority}`,
    summary === undefined
      ? `attempts:  ${task.attempt} dispatched, at most ${task.maxAttempts} per series`
      : `attempt:   ${attemptLabel(summary)}${summary.dispatches > summary.attempt ? ` (${summary.dispatches} dispatches in all)` : ""}`,
  ];
  if (task.workerName) lines.push(`worker:    ${safeLine(task.workerName)}`);
  if (task.progress && task.state === "running") lines.push(`progress:  ${safeLine(progressLabel(task.progress).text)}`);
  lines.push(`created:   ${task.createdAt?.toISOString() ?? "-"}`);
  if (task.startedAt) lines.push(`started:   ${task.startedAt.toISOString()}`);
  if (task.finishedAt) lines.push(`finished:  ${task.finishedAt.toISOString()}`);
  if (task.args !== undefined) lines.push(`args:      ${json(task.args)}`);
  if (task.result !== undefined) lines.push(`result:    ${json(task.result)}`);
  if (task.error) lines.push(`error:     ${safeLine(`${task.error.type ? `${task.error.type}: ` : ""}${task.error.message}`)}`);
  const series = attemptSeries(task.attempts, task.maxAttempts, false, task.series);
  for (const s of series) {
    if (series.length > 1 && s.attempts.length > 0) lines.push(`  series ${s.number}${s.number > 1 ? " (retried)" : ""}:`);
    for (const a of s.attempts) {
      lines.push(`  attempt ${a.number}: ${a.outcome.replace("_", " ")} on ${safeLine(a.workerName)}${a.error ? ` - ${safeLine(a.error.message)}` : ""}`);
    }
  }
  return lines.join("\n");
}

/** Rows as an aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * A listing for people, with the tokens of the pages around it. ATTEMPT is
 * the attempt within its series ("2/5", "1/3 s2" after a retry by hand).
 */
export function formatTasks(page: { tasks: TaskInfo[]; total: number; nextPageToken?: string; previousPageToken?: string }): string {
  const attempt = (t: TaskInfo): string => (t.series > 0 ? `${t.seriesAttempt}/${t.maxAttempts}${t.series > 1 ? ` s${t.series}` : ""}` : String(t.attempt));
  const rows = page.tasks.map((t) => [t.id, safeLine(t.name), t.state, t.priority, attempt(t), ago(t.createdAt), safeLine(t.error?.message ?? "").slice(0, 60)]);
  const lines = [table(["ID", "TASK", "STATE", "PRIORITY", "ATTEMPT", "CREATED", "ERROR"], rows), `(${page.tasks.length} of ${page.total})`];
  if (page.previousPageToken) lines.push(`previous page: --page ${page.previousPageToken}`);
  if (page.nextPageToken) lines.push(`next page: --page ${page.nextPageToken}`);
  return lines.join("\n");
}

export function formatWorkers(workers: WorkerInfo[]): string {
  if (workers.length === 0) return "no workers connected";
  const rows = workers.map((w) => [
    safeLine(w.name), w.state, safeLine(w.host), `${w.inFlight}/${w.capacity}`, String(w.succeeded + w.failed), String(w.failed), w.rate.toFixed(1), ago(w.lastHeartbeatAt), safeLine(w.tasks.join(",")),
  ]);
  // Workers count attempts, not tasks: a task retried three times is three attempts here.
  return table(["NAME", "STATE", "HOST", "IN FLIGHT", "ATTEMPTS", "FAILED ATTEMPTS", "TASKS/S", "HEARTBEAT", "SERVES"], rows);
}

/**
 * Stats for people. The per-state counts are what the control plane still
 * keeps (results expire after --result-ttl, beyond --max-results), so they
 * can fall while tasks succeed; the totals since it started only grow.
 */
export function formatStats(s: StatsInfo): string {
  const n = (v: number): string => v.toLocaleString("en-US");
  const kept = (state: string, value: number, total: number): string => `${`${state}:`.padEnd(12)}${n(value)} kept, ${n(total)} since start`;
  return [
    `queued:     ${n(s.queued.critical + s.queued.high + s.queued.normal + s.queued.low)} (critical ${n(s.queued.critical)}, high ${n(s.queued.high)}, normal ${n(s.queued.normal)}, low ${n(s.queued.low)})`,
    `scheduled:  ${n(s.scheduled)}`,
    `running:    ${n(s.running)}`,
    kept("succeeded", s.succeeded, s.totals.succeeded),
    kept("failed", s.failed, s.totals.failed),
    kept("cancelled", s.cancelled, s.totals.cancelled),
    `submitted:  ${n(s.totals.submitted)} since start, ${n(s.totals.retried)} retried`,
    `throughput: ${s.throughput.toFixed(1)} tasks/s, failure rate ${(s.failureRate * 100).toFixed(1)}% ` +
      `(${n(s.recent.failed)} failed of ${n(s.recent.finished)} finished in the last ${(s.recent.windowMs / 1000).toFixed(1)} s` +
      `${s.recent.finished < FEW_TO_TELL ? "; too few to tell" : ""})`,
    `workers:    ${s.workers}`,
    `version:    ${safeLine(s.version)}, up since ${s.startedAt?.toISOString() ?? "-"}`,
  ].join("\n");
}

/** A run time for people: "850 ms", "2.4 s", "3.1 min". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * The per-task-name table of `fw stats`, preceded by one warning line per
 * name whose waiting tasks no connected worker serves (they never run until
 * one connects) and per paused name.
 */
export function formatTaskNames(listing: { names: TaskNameInfo[]; total: number }): string {
  if (listing.names.length === 0) return "";
  const n = (v: number): string => v.toLocaleString("en-US");
  const warnings: string[] = [];
  for (const t of listing.names) {
    if (isStranded(t)) warnings.push(`warning: no connected worker serves "${safeLine(t.name)}": its ${n(t.queued + t.scheduled)} waiting tasks cannot run until one does`);
    if (t.paused) warnings.push(`paused: "${safeLine(t.name)}" since ${t.pausedAt?.toISOString() ?? "-"}; ${n(t.queued)} queued (fw resume ${safeLine(t.name)})`);
  }
  const rows = listing.names.map((t) => [
    safeLine(t.name) + (t.paused ? " (paused)" : ""),
    n(t.queued), n(t.scheduled), n(t.running), n(t.succeeded), n(t.failed), n(t.cancelled),
    isStranded(t) ? "0 (none!)" : String(t.workers),
    t.runTime ? formatMs(t.runTime.p50Ms) : "-",
    t.runTime ? formatMs(t.runTime.p95Ms) : "-",
  ]);
  const lines = ["", ...warnings, table(["TASK", "QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "WORKERS", "P50", "P95"], rows)];
  if (listing.total > listing.names.length) lines.push(`(${listing.names.length} of ${listing.total} task names, the most queued first)`);
  return lines.join("\n");
}
