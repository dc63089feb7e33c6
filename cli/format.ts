import type { StatsInfo, TaskInfo, WorkerInfo } from "../client/task-info.js";

/** Prints a value for scripts: JSON, one document. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A result value for people: strings bare, everything else as JSON. */
export function formatResult(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
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
  const lines = [
    `id:        ${task.id}`,
    `task:      ${task.name}`,
    `state:     ${task.state}${task.statusMessage ? ` (${task.statusMessage})` : ""}`,
    `priority:  ${task.priority}`,
    `attempt:   ${task.attempt} of ${task.maxAttempts}`,
  ];
  if (task.workerName) lines.push(`worker:    ${task.workerName}`);
  if (task.progress) lines.push(`progress:  ${(task.progress.fraction * 100).toFixed(0)}% ${task.progress.message}`);
  lines.push(`created:   ${task.createdAt?.toISOString() ?? "-"}`);
  if (task.startedAt) lines.push(`started:   ${task.startedAt.toISOString()}`);
  if (task.finishedAt) lines.push(`finished:  ${task.finishedAt.toISOString()}`);
  if (task.args !== undefined) lines.push(`args:      ${JSON.stringify(task.args)}`);
  if (task.result !== undefined) lines.push(`result:    ${JSON.stringify(task.result)}`);
  if (task.error) lines.push(`error:     ${task.error.type ? `${task.error.type}: ` : ""}${task.error.message}`);
  for (const a of task.attempts) {
    lines.push(`  attempt ${a.number}: ${a.outcome} on ${a.workerName}${a.error ? ` - ${a.error.message}` : ""}`);
  }
  return lines.join("\n");
}

/** Rows as an aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function formatTasks(tasks: TaskInfo[], total: number): string {
  const rows = tasks.map((t) => [t.id, t.name, t.state, t.priority, String(t.attempt), ago(t.createdAt), t.error?.message.slice(0, 60) ?? ""]);
  return `${table(["ID", "TASK", "STATE", "PRIORITY", "ATTEMPT", "CREATED", "ERROR"], rows)}\n(${tasks.length} of ${total})`;
}

export function formatWorkers(workers: WorkerInfo[]): string {
  if (workers.length === 0) return "no workers connected";
  const rows = workers.map((w) => [
    w.name, w.state, w.host, `${w.inFlight}/${w.capacity}`, String(w.succeeded), String(w.failed), w.rate.toFixed(1), ago(w.lastHeartbeatAt), w.tasks.join(","),
  ]);
  return table(["NAME", "STATE", "HOST", "IN FLIGHT", "SUCCEEDED", "FAILED", "TASKS/S", "HEARTBEAT", "SERVES"], rows);
}

export function formatStats(s: StatsInfo): string {
  return [
    `queued:     critical ${s.queued.critical}, high ${s.queued.high}, normal ${s.queued.normal}, low ${s.queued.low}`,
    `scheduled:  ${s.scheduled}`,
    `running:    ${s.running}`,
    `kept:       ${s.succeeded} succeeded, ${s.failed} failed, ${s.cancelled} cancelled`,
    `totals:     ${s.totals.submitted} submitted, ${s.totals.succeeded} succeeded, ${s.totals.failed} failed, ${s.totals.cancelled} cancelled, ${s.totals.retried} retried`,
    `throughput: ${s.throughput.toFixed(1)} tasks/s, failure rate ${(s.failureRate * 100).toFixed(1)}%`,
    `workers:    ${s.workers}`,
    `version:    ${s.version}, up since ${s.startedAt?.toISOString() ?? "-"}`,
  ].join("\n");
}
