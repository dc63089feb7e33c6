import { taskInfo, type TaskInfo } from "../../../client/task-info.js";
import { TaskState } from "../../../gen/fastworker/v1/task_pb.js";
import { useEffect, useMemo, useState } from "preact/hooks";
import { tasks } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { Ago } from "../components/ago.js";
import { Chart } from "../components/chart.js";
import { liveStats, onTaskChanges } from "../live/live.js";
import { count, percent, rate, shortId } from "../model/format.js";
import { href } from "../model/route.js";
import { useStore } from "../model/store.js";
import { chartSeries, FEW } from "../model/chart-series.js";
import { throttle } from "../model/throttle.js";
import { TaskNamesPanel } from "./task-names.js";

/** The first screen: counts by state, live charts, workers at a glance, the latest failures. */
export function Overview() {
  const { stats, workers, samples, updatedAt } = useStore(liveStats);
  const series = useMemo(() => chartSeries(samples), [samples]);
  const recent = series.recent;
  if (stats === undefined) return <p class="empty">Waiting for the first numbers from the control plane…</p>;

  const queuedTotal = stats.queued.critical + stats.queued.high + stats.queued.normal + stats.queued.low;
  const active = workers.filter((w) => w.state === "active" || w.state === "draining");
  const slots = active.reduce((sum, w) => sum + w.capacity, 0);
  const end = samples.length > 0 ? Math.max(samples[samples.length - 1]!.time, updatedAt - 1000) : updatedAt;

  return (
    <div class="overview">
      <section class="cards" aria-label="Tasks by state">
        <div class="card card-wide" role="group" aria-label="Queued">
          <div class="card-label">Queued</div>
          <div class="card-value" data-testid="count-queued">{count(queuedTotal)}</div>
          <div class="priorities">
            {(["critical", "high", "normal", "low"] as const).map((p) => (
              <a key={p} class={`priority priority-${p}`} href={href("tasks", new URLSearchParams({ state: "queued", priority: p }))}>
                <span>{p}</span>
                <strong data-testid={`queued-${p}`}>{count(stats.queued[p])}</strong>
              </a>
            ))}
          </div>
        </div>
        <StateCard label="Scheduled" state="scheduled" value={stats.scheduled} note="delayed or waiting to retry" />
        <StateCard label="Running" state="running" value={stats.running} note={`${count(slots)} worker slots`} />
        <StateCard label="Succeeded" state="succeeded" value={stats.succeeded} total={stats.totals.succeeded} />
        <StateCard label="Failed" state="failed" value={stats.failed} total={stats.totals.failed} />
        <StateCard label="Cancelled" state="cancelled" value={stats.cancelled} total={stats.totals.cancelled} />
      </section>

      <section class="charts" aria-label="Charts">
        <Chart
          title={`Throughput · ${rate(recent.throughput)} tasks/s`}
          detail={recent.periodMs > 0 ? `last ${Math.round(recent.periodMs / 1000)} s` : undefined}
          times={series.times}
          series={[
            { label: "succeeded", color: "var(--ok)", values: series.succeeded },
            { label: "failed", color: "var(--bad)", values: series.failed },
            { label: "cancelled", color: "var(--muted)", values: series.cancelled },
          ]}
          stacked
          format={rate}
          end={end}
        />
        <Chart
          title={`Failure rate · ${percent(recent.failureRate)}`}
          detail={`${count(recent.failed)} failed of ${count(recent.finished)} finished, last ${Math.round(recent.periodMs / 1000)} s${recent.finished < FEW ? " (too few to tell)" : ""}`}
          dim={recent.finished < FEW}
          times={series.times}
          series={[{ label: "failed", color: "var(--bad)", values: series.failureRate }]}
          format={percent}
          end={end}
          minMax={0.05}
        />
        <Chart
          title="Backlog"
          times={series.times}
          series={[
            { label: "queued", color: "var(--accent)", values: series.queued },
            { label: "running", color: "var(--running)", values: series.running },
          ]}
          format={count}
          end={end}
          minMax={5}
        />
      </section>

      <TaskNamesPanel />

      <div class="columns">
        <section class="panel" aria-label="Workers summary">
          <h2>
            Workers <a class="more" href="#/workers">all workers →</a>
          </h2>
          {workers.length === 0 ? (
            <p class="empty">No worker is connected. Start one with <code>npx fw-worker --tasks your-tasks.ts</code>.</p>
          ) : (
            <ul class="worker-list">
              {workers.slice(0, 6).map((w) => (
                <li key={w.id}>
                  <span class={`dot dot-${w.state}`} title={w.state} />
                  <span class="worker-name">{w.name}</span>
                  <span class="muted">
                    {w.inFlight}/{w.concurrency} busy · {rate(w.rate)}/s
                  </span>
                </li>
              ))}
            </ul>
          )}
          <p class="muted small">
            Control plane {stats.version} · up since <Ago time={stats.startedAt} /> · {count(stats.totals.submitted)} submitted · {count(stats.totals.retried)} retried
          </p>
        </section>
        <RecentFailures />
      </div>
    </div>
  );
}

/**
 * A state's count, linking to its tasks. Final states count what the
 * control plane still keeps (results expire), which can fall while tasks
 * succeed: so they say "kept", beside the total since it started.
 */
function StateCard({ label, state, value, note, total }: { label: string; state: string; value: number; note?: string; total?: number }) {
  return (
    <a class={`card card-${state}`} href={href("tasks", new URLSearchParams({ state }))}>
      <span class="card-label">{label}</span>
      <span class="card-value">
        <span data-testid={`count-${state}`}>{count(value)}</span>
        {total !== undefined && (
          <span class="card-unit" title="still kept by the control plane: results expire after --result-ttl and beyond --max-results">
            {" "}
            kept
          </span>
        )}
      </span>
      <span class="card-note">
        {total !== undefined ? (
          <>
            <span data-testid={`total-${state}`}>{count(total)}</span> since start
          </>
        ) : (
          note
        )}
      </span>
    </a>
  );
}

/** The five latest failed tasks, refreshed when tasks fail. */
function RecentFailures() {
  const [failed, setFailed] = useState<TaskInfo[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let closed = false;
    const load = throttle(() => {
      tasks
        .listTasks({ states: [TaskState.FAILED], pageSize: 5 })
        .then((page) => !closed && (setFailed(page.tasks.map(taskInfo)), setError(undefined)))
        .catch((err: unknown) => !closed && setError(errorText(err)));
    }, 1000);
    load();
    const unsubscribe = onTaskChanges((changes) => {
      if (changes.resync || changes.omitted > 0 || changes.tasks.some((t) => t.state === "failed" || t.attempt > 1)) load();
    });
    return () => {
      closed = true;
      load.cancel();
      unsubscribe();
    };
  }, []);
  return (
    <section class="panel" aria-label="Recent failures">
      <h2>
        Recent failures <a class="more" href={href("tasks", new URLSearchParams({ state: "failed" }))}>all failed →</a>
      </h2>
      {error && <p class="error-text">{error}</p>}
      {failed === undefined ? (
        <p class="muted">Loading…</p>
      ) : failed.length === 0 ? (
        <p class="empty">No failed tasks are retained. 🎉</p>
      ) : (
        <ul class="failure-list">
          {failed.map((t) => (
            <li key={t.id}>
              <a href={href("tasks", new URLSearchParams({ state: "failed", open: t.id }))}>
                <strong>{t.name}</strong> <code>{shortId(t.id)}</code>
              </a>
              <span class="failure-message">{t.error?.message ?? t.statusMessage}</span>
              <Ago time={t.finishedAt} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
