import { useEffect, useState } from "preact/hooks";
import { describeFlowLimit, limitInfo, scheduleInfo, type LimitInfo, type ScheduleInfo } from "../../../client/schedule-info.js";
import { limits as limitService, schedules as scheduleService } from "../api/clients.js";
import { describeError, errorText } from "../api/errors.js";
import { Ago } from "../components/ago.js";
import { Badge } from "../components/badge.js";
import { ConfirmDialog } from "../components/confirm.js";
import { useNow } from "../components/now.js";
import { ActionsHeading, ScrollTable } from "../components/table.js";
import { count, duration, timestamp } from "../model/format.js";
import { href } from "../model/route.js";
import { toast } from "../model/toasts.js";

/** How often the view asks again (schedules change at most once a tick; usage changes often). */
const REFRESH_MS = 2000;

/**
 * Schedules (next runs, last run and its outcome, paused, actions) and the
 * flow limits with their current use. Both are fetched every two seconds
 * while the view is open; nothing streams for them.
 */
export function Schedules() {
  const [data, setData] = useState<{ schedules: ScheduleInfo[]; limits: LimitInfo[] } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const refresh = async (): Promise<void> => {
    try {
      const [s, l] = await Promise.all([scheduleService.listSchedules({}), limitService.listLimits({})]);
      setData({ schedules: s.schedules.map(scheduleInfo), limits: l.limits.map(limitInfo) });
      setError(undefined);
    } catch (err) {
      setError(describeError(err));
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  if (data === undefined) return <p class="empty">{error ?? "Waiting for the control plane…"}</p>;
  return (
    <>
      <section class="panel" aria-labelledby="schedules-heading">
        <h2 id="schedules-heading">
          Schedules <span class="muted small">{count(data.schedules.length)} in all</span>
        </h2>
        {error && <p class="error-text">{error}</p>}
        {data.schedules.length === 0 ? (
          <p class="empty">
            No schedules. Declare one in a task module (<code>task(name, fn, {"{ schedule: { cron: \"0 3 * * *\" } }"})</code>) or add one with{" "}
            <code>fw schedule add</code>.
          </p>
        ) : (
          <ScrollTable
            label="Schedules"
            head={
              <>
                <th>Schedule</th>
                <th>When</th>
                <th>Next runs</th>
                <th>Last run</th>
                <th class="num" title="tasks submitted by ticks / ticks skipped">
                  Runs / skipped
                </th>
                <th>State</th>
                <ActionsHeading />
              </>
            }
          >
            {data.schedules.map((s) => (
              <ScheduleRow key={s.id} schedule={s} onChanged={() => void refresh()} />
            ))}
          </ScrollTable>
        )}
      </section>
      <section class="panel" aria-labelledby="limits-heading">
        <h2 id="limits-heading">Flow limits</h2>
        <LimitTable limits={data.limits.filter((l) => l.effective !== undefined || l.override !== undefined)} />
      </section>
    </>
  );
}

function ScheduleRow({ schedule: s, onChanged }: { schedule: ScheduleInfo; onChanged: () => void }) {
  const now = useNow();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const act = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    try {
      await call();
      toast("ok", `${what}: ${s.id}`);
      onChanged();
    } catch (err) {
      toast("error", `Could not ${what.toLowerCase()} ${s.id}: ${errorText(err)}`);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const run = s.lastRun;
  return (
    <tr data-schedule={s.id}>
      <td>
        <strong>{s.id}</strong>
        <div class="muted small">
          {s.task} · {s.source === "api" ? "made at run time" : "declared in a task module"}
        </div>
        {s.conflict && (
          <div class="error-text small" title={s.conflict}>
            Conflicting declarations
          </div>
        )}
      </td>
      <td>
        <code>{s.cron !== undefined ? s.cron : `every ${s.every}`}</code>
        <div class="muted small">
          {s.cron !== undefined ? s.tz : "since the epoch"} · misfire {s.misfire} · overlap {s.overlap}
        </div>
      </td>
      <td>
        {s.paused ? (
          <span class="muted">paused</span>
        ) : (
          s.nextRuns.map((t, i) => (
            <div key={t.getTime()} class={i === 0 ? "" : "muted small"}>
              <time dateTime={t.toISOString()} title={timestamp(t)}>
                {i === 0 ? `in ${duration(t.getTime() - now)}` : timestamp(t)}
              </time>
            </div>
          ))
        )}
      </td>
      <td>
        {run === undefined ? (
          <span class="muted">not yet</span>
        ) : (
          <>
            {run.taskId ? (
              <a href={href("tasks", new URLSearchParams({ open: run.taskId }))}>
                <Badge kind={run.state ?? "unknown"}>{run.state ?? "gone"}</Badge>
              </a>
            ) : (
              <Badge kind="skipped">skipped</Badge>
            )}{" "}
            <Ago time={run.tick} />
            {run.manual && <span class="muted small"> (run now)</span>}
            {run.note && <div class="muted small wrap">{run.note}</div>}
          </>
        )}
      </td>
      <td class="num">
        {count(s.runs)} / {count(s.skipped)}
      </td>
      <td>{s.paused ? <Badge kind="paused">paused</Badge> : <Badge kind="active">active</Badge>}</td>
      <td class="actions">
        {s.paused ? (
          <button type="button" class="button button-small" disabled={busy} onClick={() => void act("Resumed", () => scheduleService.resumeSchedule({ id: s.id }))}>
            Resume
          </button>
        ) : (
          <button type="button" class="button button-small" disabled={busy} onClick={() => void act("Paused", () => scheduleService.pauseSchedule({ id: s.id }))}>
            Pause
          </button>
        )}{" "}
        <button type="button" class="button button-small button-primary-outline" disabled={busy} onClick={() => void act("Run now", () => scheduleService.triggerSchedule({ id: s.id }))}>
          Run now
        </button>{" "}
        <button type="button" class="button button-small button-danger-outline" disabled={busy} onClick={() => setConfirming(true)}>
          Delete
        </button>
        {confirming && (
          <ConfirmDialog
            title="Delete this schedule?"
            confirmLabel="Delete schedule"
            danger
            busy={busy}
            onConfirm={() => void act("Deleted", () => scheduleService.deleteSchedule({ id: s.id }))}
            onClose={() => !busy && setConfirming(false)}
          >
            <p>
              <strong>{s.id}</strong> stops ticking; tasks it already submitted go on.
            </p>
            {s.source === "declared" && <p>It is declared in a task module: it comes back when a worker declaring it registers again. Pause it to stop it for good.</p>}
          </ConfirmDialog>
        )}
      </td>
    </tr>
  );
}

function LimitTable({ limits }: { limits: LimitInfo[] }) {
  if (limits.length === 0) {
    return (
      <p class="empty">
        No task has flow limits. Declare them in a task module (<code>{"{ concurrency: 5, rateLimit: { max: 100, perMs: 60_000 } }"}</code>) or set them with{" "}
        <code>fw limits set</code>.
      </p>
    );
  }
  return (
    <ScrollTable
      label="Flow limits"
      head={
        <>
          <th>Task</th>
          <th>In force</th>
          <th class="num">Running</th>
          <th class="num" title="queued tasks held back by the limit">
            Held back
          </th>
          <th>Busiest keys</th>
        </>
      }
    >
      {limits.map((l) => (
        <tr key={l.task} data-limit={l.task}>
          <td>
            <strong>{l.task}</strong>
            {l.override && <div class="muted small">overridden at run time (declared: {describeFlowLimit(l.declared)})</div>}
          </td>
          <td>{describeFlowLimit(l.effective)}</td>
          <td class="num">{count(l.running)}</td>
          <td class="num">{count(l.waiting)}</td>
          <td class="small">
            {l.effective?.limitKey
              ? l.lanes.slice(0, 3).map((lane) => (
                  <div key={lane.key}>
                    <code>{lane.key || "(none)"}</code> {lane.running} running, {lane.waiting} held
                  </div>
                ))
              : <span class="muted">—</span>}
            {l.lanesTotal > 3 && <div class="muted">{count(l.lanesTotal - 3)} more keys</div>}
          </td>
        </tr>
      ))}
    </ScrollTable>
  );
}
