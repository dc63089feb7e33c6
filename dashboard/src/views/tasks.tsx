import { taskInfo, type TaskInfo } from "../../../client/task-info.js";
import { PRIORITY_NAMES } from "../../../common/priority.js";
import { TASK_STATE_NAMES, type TaskStateName } from "../../../common/task-state.js";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { tasks as taskClient } from "../api/clients.js";
import { describeError } from "../api/errors.js";
import { Ago } from "../components/ago.js";
import { Badge } from "../components/badge.js";
import { useNow } from "../components/now.js";
import { TaskActions } from "../components/task-actions.js";
import { liveStats, onTaskChanges } from "../live/live.js";
import { count, duration, shortId } from "../model/format.js";
import { navigate, route } from "../model/route.js";
import { useStore } from "../model/store.js";
import { filterFromParams, filterToParams, isFiltered, listRequest, matchesFilter, type TaskFilter } from "../model/task-filter.js";
import { throttle } from "../model/throttle.js";
import { TaskDetail } from "./task-detail.js";

const PAGE_SIZE = 50;

interface Page {
  rows: TaskInfo[];
  total: number;
  nextToken: string;
}

/**
 * The task history: filters (in the address, so a view can be shared),
 * newest first, paged with the control plane's page tokens, kept current by
 * the WatchTasks stream, and a detail drawer for one task.
 */
export function Tasks() {
  const { params } = useStore(route);
  const filter = useMemo(() => filterFromParams(params), [params.toString()]);
  const openId = params.get("open") ?? "";
  const filterKey = filterToParams(filter).toString();
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [live, setLive] = useState(true);
  const [loadedAt, setLoadedAt] = useState(0);
  const token = tokens[tokens.length - 1]!;

  // A new filter starts again at the newest tasks.
  useEffect(() => setTokens([""]), [filterKey]);

  const rowsRef = useRef<TaskInfo[]>([]);
  rowsRef.current = page?.rows ?? [];

  useEffect(() => {
    let closed = false;
    let seq = 0;
    const load = throttle(() => {
      const mine = ++seq;
      const started = performance.now();
      taskClient
        .listTasks(listRequest(filter, token, PAGE_SIZE))
        .then((answer) => {
          if (closed || mine !== seq) return;
          setPage({ rows: answer.tasks.map(taskInfo), total: answer.totalSize, nextToken: answer.nextPageToken });
          setError(undefined);
          setLoadedAt(performance.now() - started);
        })
        .catch((err: unknown) => !closed && mine === seq && setError(describeError(err)));
    }, 1000);
    load();
    const unsubscribe = onTaskChanges((changes) => {
      // Rows on screen change at once; the listing is fetched again (at most once a second) when the set of rows may differ.
      const byId = new Map(changes.tasks.map((t) => [t.id, t]));
      const rows = rowsRef.current;
      if (rows.some((r) => byId.has(r.id))) {
        setPage((p) => p && { ...p, rows: p.rows.map((r) => (byId.has(r.id) ? { ...r, ...byId.get(r.id)! } : r)) });
      }
      if (!live) return;
      if (changes.resync || changes.omitted > 0 || changes.tasks.some((t) => matchesFilter(t, filter) || rows.some((r) => r.id === t.id))) load();
    });
    return () => {
      closed = true;
      load.cancel();
      unsubscribe();
    };
  }, [filterKey, token, live]);

  const setFilter = (next: TaskFilter, replace = false): void => {
    const p = filterToParams(next, new URLSearchParams());
    navigate("tasks", p, replace);
  };
  const open = (id: string | undefined): void => {
    const p = new URLSearchParams(params);
    if (id) p.set("open", id);
    else p.delete("open");
    navigate("tasks", p);
  };

  const first = (tokens.length - 1) * PAGE_SIZE;
  return (
    <div class="tasks-view">
      <Filters filter={filter} onChange={setFilter} live={live} onLive={setLive} />
      {error && (
        <p class="error-text" role="alert">
          Cannot list tasks: {error}
        </p>
      )}
      <section class="panel">
        {page === undefined ? (
          <p class="muted">Loading…</p>
        ) : page.rows.length === 0 ? (
          <div class="empty-state">
            <h2>{isFiltered(filter) ? "No task matches these filters" : "No tasks yet"}</h2>
            <p>
              {isFiltered(filter) ? (
                <button type="button" class="link" onClick={() => setFilter({ states: [], task: "", priority: "", id: "" })}>
                  Clear the filters
                </button>
              ) : (
                <>
                  Submit one with <code>npx fw submit add --args '{`{"a":1,"b":2}`}'</code>; it appears here at once.
                </>
              )}
            </p>
          </div>
        ) : (
          <TaskTable rows={page.rows} openId={openId} onOpen={open} onChanged={(t) => setPage((p) => p && { ...p, rows: p.rows.map((r) => (r.id === t.id ? t : r)) })} />
        )}
        {page !== undefined && page.rows.length > 0 && (
          <nav class="pager" aria-label="Pages">
            <span class="muted" data-testid="page-range">
              {count(first + 1)}–{count(first + page.rows.length)} of {count(page.total)}
              {loadedAt > 0 && <span class="small"> · listed in {Math.round(loadedAt)} ms</span>}
            </span>
            <span>
              <button type="button" class="button" disabled={tokens.length === 1} onClick={() => setTokens(tokens.slice(0, -1))}>
                ← Newer
              </button>
              <button type="button" class="button" disabled={!page.nextToken} onClick={() => setTokens([...tokens, page.nextToken])}>
                Older →
              </button>
            </span>
          </nav>
        )}
      </section>
      {openId && <TaskDetail id={openId} onClose={() => open(undefined)} />}
    </div>
  );
}

function TaskTable({ rows, openId, onOpen, onChanged }: { rows: TaskInfo[]; openId: string; onOpen: (id: string) => void; onChanged: (task: TaskInfo) => void }) {
  return (
    <div class="table-wrap">
      <table class="table table-hover" aria-label="Tasks">
        <thead>
          <tr>
            <th>ID</th>
            <th>Task</th>
            <th>State</th>
            <th>Priority</th>
            <th class="num">Attempt</th>
            <th>Worker</th>
            <th>Created</th>
            <th class="num">Took</th>
            <th>
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <tr
              key={t.id}
              class={t.id === openId ? "row-selected" : ""}
              data-task-id={t.id}
              data-state={t.state}
              tabIndex={0}
              onClick={() => onOpen(t.id)}
              onKeyDown={(e) => e.key === "Enter" && onOpen(t.id)}
            >
              <td>
                <code title={t.id}>{shortId(t.id)}</code>
              </td>
              <td>{t.name}</td>
              <td>
                <Badge kind={t.state} title={t.statusMessage} />
              </td>
              <td>
                <span class={`priority-text priority-${t.priority}`}>{t.priority}</span>
              </td>
              <td class="num">{t.attempt > 0 ? `${t.attempt}/${t.maxAttempts}` : "—"}</td>
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

function Filters({ filter, onChange, live, onLive }: { filter: TaskFilter; onChange: (f: TaskFilter, replace?: boolean) => void; live: boolean; onLive: (on: boolean) => void }) {
  const { workers } = useStore(liveStats);
  const names = useMemo(() => [...new Set(workers.flatMap((w) => w.tasks))].sort(), [workers]);
  const [task, setTask] = useState(filter.task);
  const [id, setId] = useState(filter.id);
  useEffect(() => setTask(filter.task), [filter.task]);
  useEffect(() => setId(filter.id), [filter.id]);
  // Typing filters after a short pause, without a history entry per key. The
  // pause reads the latest filter, so a state chip clicked meanwhile stays.
  const latest = useRef(filter);
  latest.current = filter;
  useEffect(() => {
    if (task === filter.task && id === filter.id) return;
    const timer = setTimeout(() => onChange({ ...latest.current, task, id }, true), 300);
    return () => clearTimeout(timer);
  }, [task, id]);

  const toggle = (state: TaskStateName): void => {
    const states = filter.states.includes(state) ? filter.states.filter((s) => s !== state) : [...filter.states, state];
    onChange({ ...filter, states: TASK_STATE_NAMES.filter((s) => states.includes(s)) });
  };
  return (
    <form class="filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
      <div class="chips" role="group" aria-label="State">
        {TASK_STATE_NAMES.map((s) => (
          <button key={s} type="button" class={`chip chip-${s}`} aria-pressed={filter.states.includes(s)} onClick={() => toggle(s)}>
            {s}
          </button>
        ))}
      </div>
      <label>
        <span>Task</span>
        <input type="search" list="task-names" placeholder="any name" value={task} onInput={(e) => setTask(e.currentTarget.value)} />
        <datalist id="task-names">
          {names.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
      </label>
      <label>
        <span>Priority</span>
        <select value={filter.priority} onChange={(e) => onChange({ ...filter, priority: e.currentTarget.value as TaskFilter["priority"] })}>
          <option value="">any</option>
          {PRIORITY_NAMES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>ID</span>
        <input type="search" placeholder="starts with…" value={id} spellcheck={false} onInput={(e) => setId(e.currentTarget.value)} />
      </label>
      <label class="toggle" title="Follow changes as they happen; turn off to read a busy list calmly">
        <input type="checkbox" checked={live} onChange={(e) => onLive(e.currentTarget.checked)} />
        <span>Live</span>
      </label>
    </form>
  );
}
