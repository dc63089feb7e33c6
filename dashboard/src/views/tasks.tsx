import { taskInfo, type TaskInfo } from "../../../client/task-info.js";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { tasks as taskClient } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { NARROW, useMedia } from "../components/media.js";
import { onTaskChanges } from "../live/live.js";
import { count } from "../model/format.js";
import { FIRST_PAGE, lastPageOffset, PageTokens, seek, type PagePosition } from "../model/pager.js";
import { href, navigate, route } from "../model/route.js";
import { useStore } from "../model/store.js";
import { filterFromParams, filterToParams, isFiltered, listRequest, mayChangeListing, NO_FILTER, type TaskFilter } from "../model/task-filter.js";
import { throttle } from "../model/throttle.js";
import { TaskDetail } from "./task-detail.js";
import { TaskFilters } from "./task-filters.js";
import { TaskCards, TaskTable } from "./task-list.js";

const PAGE_SIZE = 50;
/**
 * How often a page showing running tasks is listed again while the live
 * stream brings no progress reports (the control plane sends them only once
 * it emits task.progress): so the rows' progress bars move.
 */
const PROGRESS_POLL_MS = 2000;

interface Page {
  rows: TaskInfo[];
  total: number;
  nextToken: string;
}

/** A walk to a far page (the oldest) under way. */
interface Seeking {
  reached: number;
  target: number;
  abort: AbortController;
}

/**
 * The task history: filters (in the address, so a view can be shared),
 * newest first, paged with the control plane's page tokens, kept current by
 * the WatchTasks stream, and a detail drawer for one task. A table on wide
 * screens; cards and folded filters on narrow ones.
 */
export function Tasks() {
  const { params } = useStore(route);
  const filter = useMemo(() => filterFromParams(params), [params.toString()]);
  const openId = params.get("open") ?? "";
  const filterKey = filterToParams(filter).toString();
  const narrow = useMedia(NARROW);
  // The page position belongs to one filter: a new filter starts again at the newest tasks.
  const [at, setAt] = useState<{ filterKey: string; position: PagePosition; tokens: PageTokens }>(() => ({ filterKey, position: FIRST_PAGE, tokens: new PageTokens() }));
  const paging = at.filterKey === filterKey ? at : { filterKey, position: FIRST_PAGE, tokens: new PageTokens() };
  const position = paging.position;
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [live, setLive] = useState(true);
  const [loadedAt, setLoadedAt] = useState(0);
  const [seeking, setSeeking] = useState<Seeking | undefined>(undefined);
  const walking = useRef<AbortController | undefined>(undefined);

  const rowsRef = useRef<TaskInfo[]>([]);
  rowsRef.current = page?.rows ?? [];

  useEffect(() => {
    let closed = false;
    let seq = 0;
    let progressStreamedAt = 0;
    const load = throttle(() => {
      const mine = ++seq;
      const started = performance.now();
      taskClient
        .listTasks(listRequest(filter, position.token, PAGE_SIZE))
        .then((answer) => {
          if (closed || mine !== seq) return;
          setPage({ rows: answer.tasks.map(taskInfo), total: answer.totalSize, nextToken: answer.nextPageToken });
          setError(undefined);
          setLoadedAt(performance.now() - started);
        })
        .catch((err: unknown) => !closed && mine === seq && setError(errorText(err)));
    }, 1000);
    load();
    const unsubscribe = onTaskChanges((changes) => {
      // Rows on screen change at once; the listing is fetched again (at most once a second) only when the set of rows may differ.
      const byId = new Map(changes.tasks.map((t) => [t.id, t]));
      const onScreen = new Set(rowsRef.current.map((r) => r.id));
      if (changes.tasks.some((t) => t.state === "running" && t.progress)) progressStreamedAt = Date.now();
      if (changes.tasks.some((t) => onScreen.has(t.id))) {
        setPage((p) => p && { ...p, rows: p.rows.map((r) => (byId.has(r.id) ? { ...r, ...byId.get(r.id)! } : r)) });
      }
      if (!live) return;
      if (changes.resync || changes.omitted > 0 || changes.tasks.some((t) => mayChangeListing(t, onScreen.has(t.id), filter))) load();
    });
    const poll = setInterval(() => {
      if (live && Date.now() - progressStreamedAt > PROGRESS_POLL_MS * 2 && rowsRef.current.some((r) => r.state === "running")) load();
    }, PROGRESS_POLL_MS);
    return () => {
      closed = true;
      load.cancel();
      clearInterval(poll);
      unsubscribe();
    };
  }, [filterKey, position.token, live]);

  // A walk in progress belongs to the filter it started with (and to this view).
  useEffect(() => () => walking.current?.abort(), [filterKey]);

  const goTo = (next: PagePosition): void => {
    paging.tokens.note(next);
    setAt({ ...paging, position: next });
  };
  const goToOffset = async (target: number): Promise<void> => {
    walking.current?.abort();
    const walk: Seeking = { reached: position.offset, target, abort: new AbortController() };
    walking.current = walk.abort;
    setSeeking(walk);
    try {
      const hop = async (token: string, size: number) => {
        const answer = await taskClient.listTasks(listRequest(filter, token, size), { signal: walk.abort.signal });
        return { count: answer.tasks.length, next: answer.nextPageToken };
      };
      const reached = await seek(paging.tokens, target, hop, { signal: walk.abort.signal, onHop: (offset) => setSeeking({ ...walk, reached: offset }) });
      goTo(reached);
    } catch (err) {
      if (!walk.abort.signal.aborted) setError(errorText(err));
    } finally {
      setSeeking((s) => (s?.abort === walk.abort ? undefined : s));
    }
  };

  const setFilter = (next: TaskFilter, replace = false): void => {
    const p = filterToParams(next, new URLSearchParams());
    navigate("tasks", p, replace);
  };
  const openHref = (id: string): string => {
    const p = new URLSearchParams(params);
    p.set("open", id);
    return href("tasks", p);
  };
  const open = (id: string | undefined): void => {
    const p = new URLSearchParams(params);
    if (id) p.set("open", id);
    else p.delete("open");
    navigate("tasks", p);
  };
  const onChanged = (t: TaskInfo): void => setPage((p) => p && { ...p, rows: p.rows.map((r) => (r.id === t.id ? t : r)) });

  const first = position.offset;
  const pages = page ? Math.max(1, Math.ceil(page.total / PAGE_SIZE)) : 1;
  const last = page ? lastPageOffset(page.total, PAGE_SIZE) : 0;
  return (
    <div class="tasks-view">
      <TaskFilters filter={filter} onChange={setFilter} live={live} onLive={setLive} folded={narrow} />
      {error && (
        <p class="error-text" role="alert">
          Cannot list tasks: {error}
        </p>
      )}
      <section class="panel panel-list" aria-label="Task list">
        {page === undefined ? (
          <p class="muted">Loading…</p>
        ) : page.rows.length === 0 ? (
          <div class="empty-state">
            <h2>{first > 0 ? "No tasks on this page any more" : isFiltered(filter) ? "No task matches these filters" : "No tasks yet"}</h2>
            <p>
              {first > 0 ? (
                <button type="button" class="link" onClick={() => goTo(FIRST_PAGE)}>
                  Back to the newest tasks
                </button>
              ) : isFiltered(filter) ? (
                <button type="button" class="link" onClick={() => setFilter(NO_FILTER)}>
                  Clear the filters
                </button>
              ) : (
                <>
                  Submit one with <code>npx fw submit add --args '{`{"a":1,"b":2}`}'</code>; it appears here at once.
                </>
              )}
            </p>
          </div>
        ) : narrow ? (
          <TaskCards rows={page.rows} openId={openId} openHref={openHref} onOpen={open} onChanged={onChanged} />
        ) : (
          <TaskTable rows={page.rows} openId={openId} openHref={openHref} onOpen={open} onChanged={onChanged} />
        )}
        {page !== undefined && page.rows.length > 0 && (
          <nav class="pager" aria-label="Pages">
            <span class="muted" data-testid="page-range">
              {count(first + 1)}–{count(first + page.rows.length)} of {count(page.total)}
              <span class="small">
                {" "}
                · page {count(Math.floor(first / PAGE_SIZE) + 1)} of {count(pages)}
                {loadedAt > 0 && ` · listed in ${Math.round(loadedAt)} ms`}
              </span>
            </span>
            {seeking ? (
              <span class="pager-buttons" role="status">
                Finding the page… {count(seeking.reached)} of {count(seeking.target)} tasks
                <button type="button" class="button button-small" onClick={() => seeking.abort.abort()}>
                  Stop
                </button>
              </span>
            ) : (
              <span class="pager-buttons">
                <button type="button" class="button" disabled={first === 0} onClick={() => goTo(FIRST_PAGE)}>
                  Newest
                </button>
                <button type="button" class="button" disabled={first === 0} onClick={() => void goToOffset(Math.max(0, first - PAGE_SIZE))}>
                  ← Newer
                </button>
                <button type="button" class="button" disabled={!page.nextToken} onClick={() => goTo({ offset: first + page.rows.length, token: page.nextToken })}>
                  Older →
                </button>
                <button
                  type="button"
                  class="button"
                  disabled={!page.nextToken || first >= last}
                  title="The oldest tasks kept: reached by walking the pages, 1,000 tasks a request"
                  onClick={() => void goToOffset(last)}
                >
                  Oldest
                </button>
              </span>
            )}
          </nav>
        )}
      </section>
      {openId && <TaskDetail key={openId} id={openId} onClose={() => open(undefined)} />}
    </div>
  );
}
