import { taskInfo, type AttemptInfo, type TaskErrorInfo, type TaskInfo } from "../../../client/task-info.js";
import { attemptLabel, attemptSeries, attemptSummary } from "../../../client/task-summary.js";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { tasks } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { Ago } from "../components/ago.js";
import { Badge } from "../components/badge.js";
import { JsonView } from "../components/json-view.js";
import { useNow } from "../components/now.js";
import { ProgressBar } from "../components/progress-bar.js";
import { TaskActions } from "../components/task-actions.js";
import { Toasts } from "../components/toasts.js";
import { onTaskChanges } from "../live/live.js";
import { duration, timestamp } from "../model/format.js";
import { throttle } from "../model/throttle.js";
import { TaskLogs } from "./task-logs.js";

/**
 * How often an open running task is fetched again when the live stream
 * brought nothing for it: progress reports reach the stream only once the
 * control plane emits them (task.progress); until then this keeps the bar
 * moving.
 */
const POLL_MS = 2000;

/**
 * One task in full (GetTask): args, result or error with its stack, every
 * attempt by series, timings, worker, progress; Cancel or Retry. A modal
 * dialog: focus stays inside, Escape or a click outside closes it, and focus
 * goes back to where it was (the task's row). Kept current from the live
 * stream: a progress report updates it in place, a state change fetches it
 * again.
 */
export function TaskDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const [task, setTask] = useState<TaskInfo | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const dialog = useRef<HTMLDialogElement>(null);
  const current = useRef<TaskInfo | undefined>(undefined);
  current.current = task;

  useEffect(() => {
    let closed = false;
    let streamedAt = 0;
    const load = throttle(() => {
      tasks
        .getTask({ id })
        .then((answer) => !closed && answer.task && (setTask(taskInfo(answer.task)), setError(undefined)))
        .catch((err: unknown) => !closed && setError(errorText(err)));
    }, 500);
    load();
    const unsubscribe = onTaskChanges((changes) => {
      const change = changes.tasks.find((t) => t.id === id);
      if (change !== undefined) streamedAt = Date.now();
      const shown = current.current;
      if (change !== undefined && shown !== undefined && change.state === shown.state && change.attempt === shown.attempt) {
        // A progress report: the listing's view of the task has what changed.
        setTask({ ...shown, progress: change.progress, statusMessage: change.statusMessage });
      } else if (change !== undefined || changes.resync || changes.omitted > 0) {
        load();
      }
    });
    const poll = setInterval(() => {
      if (current.current?.state === "running" && Date.now() - streamedAt >= POLL_MS) load();
    }, POLL_MS);
    return () => {
      closed = true;
      load.cancel();
      clearInterval(poll);
      unsubscribe();
    };
  }, [id]);

  // A layout effect: its cleanup runs as the dialog leaves the page, not a frame later, so focus never drops to the body.
  useLayoutEffect(() => {
    const d = dialog.current!;
    const opener = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : undefined;
    if (!d.open) d.showModal();
    d.focus();
    return () => {
      if (d.open) d.close();
      // Back to where the person was; after a click on a row, to the row's link.
      const back = opener?.isConnected ? opener : document.querySelector<HTMLElement>(`[data-task-id="${CSS.escape(id)}"] .row-link`);
      back?.focus();
    };
  }, []);

  return (
    <dialog
      ref={dialog}
      class="drawer"
      tabIndex={-1}
      aria-label="Task detail"
      // Escape: the route closes it (and the back button, and links), not the dialog itself.
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      // A click on the backdrop lands on the dialog element itself; the panel inside covers the rest.
      onClick={(e) => e.target === e.currentTarget && onClose()}
    >
      <div class="drawer-panel">
        <header class="drawer-header">
          <div>
            <h2>{task?.name ?? "Task"}</h2>
            <code class="muted">{id}</code>
          </div>
          <button type="button" class="button" onClick={onClose} aria-label="Close the task detail">
            ✕
          </button>
        </header>
        {error && (
          <p class="error-text" role="alert">
            {error}
          </p>
        )}
        {task === undefined ? !error && <p class="muted">Loading…</p> : <Detail task={task} onChanged={setTask} />}
      </div>
      <Toasts inModal />
    </dialog>
  );
}

function Detail({ task, onChanged }: { task: TaskInfo; onChanged: (t: TaskInfo) => void }) {
  const now = useNow();
  const wait = task.createdAt && (task.startedAt ?? (task.state === "queued" ? new Date(now) : undefined));
  const end = task.finishedAt ?? (task.state === "running" ? new Date(now) : undefined);
  const summary = attemptSummary(task);
  return (
    <div class="detail">
      <div class="detail-status">
        <Badge kind={task.state} />
        <span class={`priority-text priority-${task.priority}`}>{task.priority}</span>
        <span class="spacer" />
        <TaskActions task={task} onDone={onChanged} />
      </div>
      {task.statusMessage && task.statusMessage !== task.error?.message && <p class="status-message">{task.statusMessage}</p>}
      {task.progress && task.state === "running" && (
        <div class="detail-progress">
          <ProgressBar progress={task.progress} />
          {task.progress.updatedAt && (
            <span class="muted small">
              {" "}
              reported <Ago time={task.progress.updatedAt} />
            </span>
          )}
        </div>
      )}

      <dl class="facts">
        <dt>Attempt</dt>
        <dd data-testid="attempt">
          {summary ? attemptLabel(summary) : `${task.attempt} of ${task.maxAttempts}`}
          {summary && summary.dispatches > summary.attempt && <span class="muted"> · {summary.dispatches} dispatches in all</span>}
        </dd>
        <dt>Created</dt>
        <dd>
          {timestamp(task.createdAt)} (<Ago time={task.createdAt} />)
        </dd>
        {task.scheduledFor && (
          <>
            <dt>Scheduled for</dt>
            <dd>{timestamp(task.scheduledFor)}</dd>
          </>
        )}
        <dt>Started</dt>
        <dd>
          {timestamp(task.startedAt)}
          {wait && task.createdAt && <span class="muted"> · waited {duration(wait.getTime() - task.createdAt.getTime())}</span>}
        </dd>
        <dt>Finished</dt>
        <dd>
          {task.finishedAt ? timestamp(task.finishedAt) : <span class="muted">not yet</span>}
          {end && task.startedAt && <span class="muted"> · {task.finishedAt ? "ran" : "running for"} {duration(end.getTime() - task.startedAt.getTime())}</span>}
        </dd>
        <dt>Worker</dt>
        <dd>{task.workerName || <span class="muted">not dispatched yet</span>}</dd>
        {task.idempotencyKey && (
          <>
            <dt>Idempotency key</dt>
            <dd>
              <code>{task.idempotencyKey}</code>
            </dd>
          </>
        )}
        {Object.keys(task.metadata).length > 0 && (
          <>
            <dt>Metadata</dt>
            <dd>
              {Object.entries(task.metadata).map(([k, v]) => (
                <div key={k}>
                  <code>{k}</code> = <code>{v}</code>
                </div>
              ))}
            </dd>
          </>
        )}
      </dl>

      {task.error && (
        <section aria-labelledby="detail-error">
          <h3 id="detail-error">{task.state === "cancelled" ? "Why it was cancelled" : "Error"}</h3>
          <ErrorBlock error={task.error} />
        </section>
      )}
      {task.state === "succeeded" && (
        <section aria-labelledby="detail-result">
          <h3 id="detail-result">Result</h3>
          <JsonView value={task.result ?? null} label="result" />
        </section>
      )}
      <TaskLogs task={task} />
      <section aria-labelledby="detail-args">
        <h3 id="detail-args">Arguments</h3>
        <JsonView value={task.args} label="arguments" />
      </section>
      <section aria-labelledby="detail-attempts">
        <h3 id="detail-attempts">Attempts</h3>
        {task.attempts.length === 0 ? <p class="muted">Not dispatched yet.</p> : <Attempts task={task} now={now} />}
      </section>
    </div>
  );
}

function ErrorBlock({ error }: { error: TaskErrorInfo }) {
  return (
    <div class="error-block">
      <p>
        <strong>{error.type || "Error"}</strong>: {error.message}
        {!error.retryable && <span class="muted"> (not retryable)</span>}
      </p>
      {error.stack && (
        <pre class="code stack" aria-label="stack trace" tabIndex={0}>
          {error.stack}
        </pre>
      )}
    </div>
  );
}

/** Every attempt, oldest first; after a RetryTask, each series under its own heading. */
function Attempts({ task, now }: { task: TaskInfo; now: number }) {
  const series = attemptSeries(task.attempts, task.maxAttempts, false, task.series);
  return (
    <>
      {series.map((s) => (
        <div key={s.number}>
          {series.length > 1 && <h4 class="series-title">{s.number === 1 ? "First series" : `Series ${s.number} (retried)`}</h4>}
          <ol class="attempts">
            {s.attempts.map((a) => (
              <AttemptItem key={a.number} attempt={a} now={now} />
            ))}
          </ol>
        </div>
      ))}
    </>
  );
}

function AttemptItem({ attempt: a, now }: { attempt: AttemptInfo; now: number }) {
  const end = a.finishedAt?.getTime() ?? (a.outcome === "running" ? now : undefined);
  return (
    <li>
      <div class="attempt-head">
        <strong>#{a.number}</strong>
        <Badge kind={a.outcome === "succeeded" ? "succeeded" : a.outcome === "running" ? "running" : a.outcome === "cancelled" ? "cancelled" : "failed"}>{a.outcome.replace("_", " ")}</Badge>
        <span>{a.workerName}</span>
        <span class="muted">
          dispatched {timestamp(a.dispatchedAt)}
          {end !== undefined && a.dispatchedAt && ` · ${duration(end - a.dispatchedAt.getTime())}`}
        </span>
      </div>
      {a.error && (
        <details>
          <summary>
            {a.error.type || "Error"}: {a.error.message}
          </summary>
          {a.error.stack && (
            <pre class="code stack" tabIndex={0}>
              {a.error.stack}
            </pre>
          )}
        </details>
      )}
    </li>
  );
}
