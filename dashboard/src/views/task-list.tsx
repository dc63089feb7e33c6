import type { TaskInfo } from "../../../client/task-info.js";
import { Ago } from "../components/ago.js";
import { Badge } from "../components/badge.js";
import { useNow } from "../components/now.js";
import { ProgressBar } from "../components/progress-bar.js";
import { ActionsHeading } from "../components/table.js";
import { TaskActions } from "../components/task-actions.js";
import { duration, shortId } from "../model/format.js";

/** What both layouts of the task list take. */
export interface TaskListProps {
  rows: TaskInfo[];
  openId: string;
  /** The address that opens a task's detail (links keep working with the keyboard, in new tabs, when shared). */
  openHref: (id: string) => string;
  onOpen: (id: string) => void;
  onChanged: (task: TaskInfo) => void;
  /** Names whose waiting tasks no connected worker serves. */
  stranded: ReadonlySet<string>;
  /** Ticked rows (for actions on many tasks). */
  selected: ReadonlySet<string>;
  onSelect: (ids: readonly string[], on: boolean) => void;
}

/** A row's tick box; its clicks do not open the row. */
function Tick({ task, selected, onSelect }: { task: TaskInfo; selected: ReadonlySet<string>; onSelect: TaskListProps["onSelect"] }) {
  return (
    <input
      type="checkbox"
      class="tick"
      aria-label={`Select ${task.name} ${task.id}`}
      checked={selected.has(task.id)}
      onClick={(e) => e.stopPropagation()}
      onChange={(e) => onSelect([task.id], (e.currentTarget as HTMLInputElement).checked)}
    />
  );
}

/** "no worker" beside the state of a waiting task that nothing connected can run. */
function NoWorker({ task, stranded }: { task: TaskInfo; stranded: ReadonlySet<string> }) {
  if ((task.state !== "queued" && task.state !== "scheduled") || !stranded.has(task.name)) return null;
  return (
    <>
      {" "}
      <span class="badge badge-failed" data-testid="no-worker" title={`no connected worker serves "${task.name}"`}>
        no worker
      </span>
    </>
  );
}

const ATTEMPTS_HINT = "dispatches in all, retries and redeliveries included";

/**
 * The tasks as a table (wide screens). Each row opens its detail on a click;
 * its id is a link, so the keyboard reaches every row (with a visible focus)
 * and the detail can open in a new tab.
 */
export function TaskTable({ rows, openId, openHref, onOpen, onChanged, stranded, selected, onSelect }: TaskListProps) {
  const all = rows.length > 0 && rows.every((t) => selected.has(t.id));
  return (
    <div class="table-wrap">
      <table class="table table-hover" aria-label="Tasks">
        <thead>
          <tr>
            <th class="tick-cell">
              <input
                type="checkbox"
                class="tick"
                aria-label="Select every task on this page"
                checked={all}
                onChange={(e) => onSelect(rows.map((t) => t.id), (e.currentTarget as HTMLInputElement).checked)}
              />
            </th>
            <th>ID</th>
            <th>Task</th>
            <th>State</th>
            <th>Priority</th>
            <th class="num" title={ATTEMPTS_HINT}>
              Attempts
            </th>
            <th>Worker</th>
            <th>Created</th>
            <th class="num">Took</th>
            <ActionsHeading />
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr key={t.id} class={t.id === openId ? "row-selected" : ""} data-task-id={t.id} data-state={t.state} onClick={() => onOpen(t.id)}>
              <td class="tick-cell">
                <Tick task={t} selected={selected} onSelect={onSelect} />
              </td>
              <td>
                <a class="row-link" href={openHref(t.id)} title={t.id} onClick={(e) => e.stopPropagation()}>
                  <code>{shortId(t.id)}</code>
                </a>
              </td>
              <td>{t.name}</td>
              <td>
                <Badge kind={t.state} title={t.statusMessage} />
                <NoWorker task={t} stranded={stranded} />
                {t.state === "running" && t.progress && <ProgressBar progress={t.progress} compact />}
              </td>
              <td>
                <span class={`priority-text priority-${t.priority}`}>{t.priority}</span>
              </td>
              <td class="num">{t.attempt > 0 ? t.attempt : "—"}</td>
              <td class="ellipsis">{t.workerName || <span class="muted">—</span>}</td>
              <td>
                <Ago time={t.createdAt} />
              </td>
              <td class="num">
                <Took task={t} />
              </td>
              <td class="actions">
                <TaskActions task={t} onDone={onChanged} small />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The tasks as cards (narrow screens): everything a row says, stacked, with the action in reach without scrolling sideways. */
export function TaskCards({ rows, openId, openHref, onOpen, onChanged, stranded, selected, onSelect }: TaskListProps) {
  return (
    <ul class="card-list" aria-label="Tasks">
      {rows.map((t) => (
        <li key={t.id} class={`item-card${t.id === openId ? " row-selected" : ""}`} data-task-id={t.id} data-state={t.state} onClick={() => onOpen(t.id)}>
          <div class="item-head">
            <Tick task={t} selected={selected} onSelect={onSelect} />
            <a class="item-title row-link" href={openHref(t.id)} onClick={(e) => e.stopPropagation()}>
              {t.name} <code>{shortId(t.id)}</code>
            </a>
            <span>
              <Badge kind={t.state} title={t.statusMessage} />
              <NoWorker task={t} stranded={stranded} />
            </span>
          </div>
          <div class="item-meta small">
            <span class={`priority-text priority-${t.priority}`}>{t.priority}</span>
            <span class="muted">
              {" · "}
              <Ago time={t.createdAt} />
              {t.attempt > 1 && ` · ${t.attempt} attempts`}
              {t.workerName && ` · ${t.workerName}`}
              {t.startedAt && (t.state === "running" || t.finishedAt) && (
                <>
                  {" · took "}
                  <Took task={t} />
                </>
              )}
            </span>
          </div>
          {t.state === "running" && t.progress && <ProgressBar progress={t.progress} />}
          <div class="item-actions">
            <TaskActions task={t} onDone={onChanged} small />
          </div>
        </li>
      ))}
    </ul>
  );
}

/** Run time of a started task; only a running one ticks every second (so the table does not re-render). */
function Took({ task }: { task: TaskInfo }) {
  if (task.startedAt === undefined) return <>—</>;
  if (task.state === "running") return <Running since={task.startedAt} />;
  return <>{task.finishedAt ? duration(task.finishedAt.getTime() - task.startedAt.getTime()) : "—"}</>;
}

function Running({ since }: { since: Date }) {
  const now = useNow();
  return <>{duration(now - since.getTime())}</>;
}
