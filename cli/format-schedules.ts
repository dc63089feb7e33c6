import { describeFlowLimit, type LimitInfo, type ScheduleInfo } from "../client/schedule-info.js";
import { table } from "./format.js";

const when = (s: ScheduleInfo): string => (s.cron !== undefined ? `cron ${s.cron}${s.tz && s.tz !== "UTC" ? ` ${s.tz}` : ""}` : `every ${s.every}`);
const time = (d: Date | undefined): string => (d === undefined ? "-" : d.toISOString().replace(/\.000Z$/, "Z"));

/** What a schedule's last run came to, in a few words. */
export function lastRunLabel(s: ScheduleInfo): string {
  const run = s.lastRun;
  if (run === undefined) return "-";
  const what = run.taskId ? `${run.taskId} ${run.state ?? "gone"}` : run.note.startsWith("skipped") ? "skipped" : run.note;
  return `${time(run.tick)} ${what}${run.manual ? " (manual)" : ""}`;
}

/** `fw schedule ls` for people. */
export function formatSchedules(schedules: ScheduleInfo[]): string {
  if (schedules.length === 0) return "no schedules";
  const rows = schedules.map((s) => [
    s.id, s.task, when(s), s.paused ? "paused" : time(s.nextRuns[0]), lastRunLabel(s), `${s.runs}/${s.skipped}`, s.source, s.conflict ? "conflict!" : "",
  ]);
  return table(["ID", "TASK", "WHEN", "NEXT", "LAST RUN", "RUNS/SKIPPED", "SOURCE", ""], rows);
}

/** One schedule in full, for people. */
export function formatSchedule(s: ScheduleInfo): string {
  const lines = [
    `id:        ${s.id}`,
    `task:      ${s.task}`,
    `when:      ${when(s)}`,
    `args:      ${JSON.stringify(s.args)}`,
    `policies:  misfire ${s.misfire}, overlap ${s.overlap}`,
    `state:     ${s.paused ? "paused" : "active"} (${s.source === "api" ? "made through the API" : "declared in a task module"})`,
    `next:      ${s.paused ? "-" : s.nextRuns.map(time).join(", ")}`,
    `last run:  ${lastRunLabel(s)}${s.lastRun?.note && s.lastRun.taskId ? ` - ${s.lastRun.note}` : ""}`,
    `runs:      ${s.runs} submitted, ${s.skipped} ticks skipped`,
  ];
  if (s.waitingTick) lines.push(`waiting:   tick ${time(s.waitingTick)} runs when the previous run ends`);
  if (s.conflict) lines.push(`conflict:  ${s.conflict}`);
  return lines.join("\n");
}

/** `fw limits` for people. */
export function formatLimits(limits: LimitInfo[]): string {
  if (limits.length === 0) return "no task has flow limits";
  const rows = limits.map((l) => [
    l.task, describeFlowLimit(l.effective), describeFlowLimit(l.declared), describeFlowLimit(l.override), String(l.running), String(l.waiting), l.lanesTotal > 1 ? String(l.lanesTotal) : "",
  ]);
  return table(["TASK", "IN FORCE", "DECLARED", "OVERRIDE", "RUNNING", "WAITING", "KEYS"], rows);
}

/** The limits' lines under `fw stats`. */
export function formatLimitUsage(limits: LimitInfo[]): string {
  if (limits.length === 0) return "";
  return limits
    .map((l) => {
      const lane = l.lanes[0];
      const rate = l.effective?.rateLimit;
      // No lane in use means a full bucket.
      const tokens = rate !== undefined && l.lanesTotal <= 1 ? `, ${Math.floor(lane?.tokens ?? rate.max)} tokens` : "";
      return `limit:      ${l.task}: ${l.running} running, ${l.waiting} held back (${describeFlowLimit(l.effective)}${tokens})`;
    })
    .join("\n");
}
