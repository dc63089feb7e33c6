import { taskInfo, type AttemptInfo, type TaskErrorInfo, type TaskInfo } from "../../../client/task-info.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { tasks } from "../api/clients.js";
import { describeError } from "../api/errors.js";
import { Ago } from "../components/ago.js";
import { Badge } from "../components/badge.js";
import { JsonView } from "../components/json-view.js";
import { useNow } from "../components/now.js";
import { TaskActions } from "../components/task-actions.js";
import { onTaskChanges } from "../live/live.js";
import { duration, timestamp } from "../model/format.js";
import { throttle } from "../model/throttle.js";

/**
 * One task in full (GetTask): args, result or error with its stack, every
 * attempt, timings, worker; Cancel or Retry. Fetched again when the live
 * stream says the task changed.
 */
export function TaskDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const [task, setTask] = useState<TaskInfo | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let closed = false;
    setTask(undefined);
    setError(undefined);
    const load = throttle(() => {
      tasks
        .getTask({ id })
        .then((answer) => !closed && answer.task && (setTask(taskInfo(answer.task)), setError(undefined)))
        .catch((err: unknown) => !closed && setError(describeError(err)));
    }, 500);
    load();
    const unsubscribe = onTaskChanges((changes) => {
      if (changes.resync || changes.omitted > 0 || changes.tasks.some((t) => t.id === id)) load();
    });
    return () => {
      closed = true;
      load.cancel();
      unsubscribe();
    };
  }, [id]);

  useEffect(() => {
    panel.current?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === "Escape" && !document.querySelector("dialog[open]")) onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [id]);

  return (
    <div class="drawer-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="drawer" ref={panel} tabIndex={-1} role="dialog" aria-modal="false" aria-label="Task detail">
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
    </div>
  );
}

function Detail({ task, onChanged }: { task: TaskInfo; onChanged: (t: TaskInfo) => void }) {
  const now = useNow();
  const wait = task.createdAt && (task.startedAt ?? (task.state === "queued" ? new Date(now) : undefined));
  const end = task.finishedAt ?? (task.state === "running" ? new Date(now) : undefined);
  return (
    <div class="detail">
      <div class="detail-status">
        <Badge kind={task.state} />
        <span class={`priority-text priority-${task.priority}`}>{task.priority}</span>
        <span class="muted">
          attempt {task.attempt} of {task.maxAttempts}
        </span>
        <span class="spacer" />
        <TaskActions task={task} onDone={onChanged} />
      </div>
      {task.statusMessage && task.statusMessage !== task.error?.message && <p class="status-message">{task.statusMessage}</p>}
      {task.progress && task.state === "running" && (
        <div class="progress" title={task.progress.message}>
          <progress max={1} value={task.progress.fraction} /> {Math.round(task.progress.fraction * 100)}% {task.progress.message}
        </div>
      )}

      <dl class="facts">
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
          {timestamp(task.finishedAt)}
          {end && task.startedAt && <span class="muted"> · ran {duration(end.getTime() - task.startedAt.getTime())}</span>}
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
        <section aria-label="Error">
          <h3>{task.state === "cancelled" ? "Why it was cancelled" : "Error"}</h3>
          <ErrorBlock error={task.error} />
        </section>
      )}
      {task.state === "succeeded" && (
        <section aria-label="Result">
          <h3>Result</h3>
          <JsonView value={task.result ?? null} label="result" />
        </section>
      )}
      <section aria-label="Arguments">
        <h3>Arguments</h3>
        <JsonView value={task.args} label="arguments" />
      </section>
      <section aria-label="Attempts">
        <h3>Attempts</h3>
        {task.attempts.length === 0 ? <p class="muted">Not dispatched yet.</p> : <Attempts attempts={task.attempts} now={now} />}
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
        <pre class="code stack" aria-label="stack trace">
          {error.stack}
        </pre>
      )}
    </div>
  );
}

function Attempts({ attempts, now }: { attempts: AttemptInfo[]; now: number }) {
  return (
    <ol class="attempts">
      {attempts.map((a) => {
        const end = a.finishedAt?.getTime() ?? (a.outcome === "running" ? now : undefined);
        return (
          <li key={a.number}>
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
                {a.error.stack && <pre class="code stack">{a.error.stack}</pre>}
              </details>
            )}
          </li>
        );
      })}
    </ol>
  );
}
