import { isStranded, taskNameInfo, type TaskNameInfo } from "../../../client/task-info.js";
import { useEffect, useState } from "preact/hooks";
import { admin } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { ActionsHeading } from "../components/table.js";
import { liveStats } from "../live/live.js";
import { count, duration } from "../model/format.js";
import { href } from "../model/route.js";
import { throttle } from "../model/throttle.js";
import { toast } from "../model/toasts.js";

/** The per-name rows, fetched again with the live numbers (at most every 2 s). */
export function useTaskNames(): { names: TaskNameInfo[] | undefined; total: number; error: string | undefined; reload: () => void } {
  const [state, setState] = useState<{ names: TaskNameInfo[] | undefined; total: number; error: string | undefined }>({ names: undefined, total: 0, error: undefined });
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    let closed = false;
    const load = throttle(() => {
      admin
        .listTaskNames({ limit: 200 })
        .then((answer) => !closed && setState({ names: answer.names.map(taskNameInfo), total: answer.totalNames, error: undefined }))
        .catch((err: unknown) => !closed && setState((s) => ({ ...s, error: errorText(err) })));
    }, 2000);
    load();
    const unsubscribe = liveStats.subscribe(() => load());
    return () => {
      closed = true;
      load.cancel();
      unsubscribe();
    };
  }, [reloads]);
  return { ...state, reload: () => setReloads((n) => n + 1) };
}

/** One warning per name whose waiting tasks no connected worker serves: they sit there until one connects. */
export function StrandedNotices({ names }: { names: TaskNameInfo[] }) {
  const stranded = names.filter(isStranded);
  if (stranded.length === 0) return null;
  return (
    <ul class="notices" aria-label="Work nothing can run">
      {stranded.map((n) => (
        <li key={n.name} class="notice notice-warn" data-testid="stranded">
          <strong>No connected worker serves “{n.name}”</strong>: its {count(n.queued + n.scheduled)} waiting tasks cannot run until one does.{" "}
          <a href={href("tasks", new URLSearchParams({ task: n.name, state: "queued" }))}>See them</a>
        </li>
      ))}
    </ul>
  );
}

/**
 * The per-task-name table of the Overview: tasks by state, the connected
 * workers serving each name, run times, and Pause / Resume (dispatch stops,
 * submissions still queue).
 */
export function TaskNamesPanel() {
  const { names, total, error, reload } = useTaskNames();
  const [busy, setBusy] = useState("");
  const toggle = async (n: TaskNameInfo): Promise<void> => {
    setBusy(n.name);
    try {
      if (n.paused) await admin.resumeTaskName({ task: n.name });
      else await admin.pauseTaskName({ task: n.name });
      toast("ok", n.paused ? `Resumed “${n.name}”: its queued tasks run again` : `Paused “${n.name}”: its tasks queue but do not run`);
      reload();
    } catch (err) {
      toast("error", `Could not ${n.paused ? "resume" : "pause"} “${n.name}”: ${errorText(err)}`);
    } finally {
      setBusy("");
    }
  };
  return (
    <section class="panel" aria-labelledby="task-names-title">
      <h2 id="task-names-title">Task names</h2>
      {error && <p class="error-text">{error}</p>}
      {names === undefined ? (
        <p class="muted">Loading…</p>
      ) : names.length === 0 ? (
        <p class="empty">No task names yet: they appear when a worker declares tasks or a task is submitted.</p>
      ) : (
        <>
          <StrandedNotices names={names} />
          <div class="table-wrap">
            <table class="table" aria-label="Task names">
              <thead>
                <tr>
                  <th>Task</th>
                  <th class="num">Queued</th>
                  <th class="num">Scheduled</th>
                  <th class="num">Running</th>
                  <th class="num" title="still kept">Succeeded</th>
                  <th class="num" title="still kept">Failed</th>
                  <th class="num" title="connected workers that serve it">Workers</th>
                  <th class="num" title="median run time of recent attempts">p50</th>
                  <th class="num" title="95th percentile run time of recent attempts">p95</th>
                  <ActionsHeading />
                </tr>
              </thead>
              <tbody>
                {names.map((n) => (
                  <tr key={n.name} data-task-name={n.name}>
                    <td>
                      <a href={href("tasks", new URLSearchParams({ task: n.name }))}>{n.name}</a>
                      {n.paused && (
                        <>
                          {" "}
                          <span class="badge badge-paused">paused</span>
                        </>
                      )}
                    </td>
                    <td class="num">{count(n.queued)}</td>
                    <td class="num">{count(n.scheduled)}</td>
                    <td class="num">{count(n.running)}</td>
                    <td class="num">{count(n.succeeded)}</td>
                    <td class="num">{count(n.failed)}</td>
                    <td class="num">
                      {isStranded(n) ? (
                        <span class="badge badge-failed" title={`no connected worker serves "${n.name}"`}>
                          none
                        </span>
                      ) : (
                        count(n.workers)
                      )}
                    </td>
                    <td class="num">{n.runTime ? duration(n.runTime.p50Ms) : "—"}</td>
                    <td class="num">{n.runTime ? duration(n.runTime.p95Ms) : "—"}</td>
                    <td class="actions">
                      <button type="button" class="button button-small" disabled={busy === n.name} onClick={() => void toggle(n)} aria-label={`${n.paused ? "Resume" : "Pause"} ${n.name}`}>
                        {n.paused ? "Resume" : "Pause"}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {total > names.length && <p class="muted small">{count(names.length)} of {count(total)} task names, the most queued first.</p>}
        </>
      )}
    </section>
  );
}
