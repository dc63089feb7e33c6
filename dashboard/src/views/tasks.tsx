import { isStranded, taskInfo, type TaskInfo } from "../../../client/task-info.js";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { tasks as taskClient } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { NARROW, useMedia } from "../components/media.js";
import { onTaskChanges } from "../live/live.js";
import { count } from "../model/format.js";
import { FIRST_PAGE, lastPage, nextPage, previousPage, type PagePosition } from "../model/pager.js";
import { href, navigate, route } from "../model/route.js";
import { useStore } from "../model/store.js";
import { filterFromParams, filterToParams, isFiltered, listRequest, mayChangeListing, NO_FILTER, type TaskFilter } from "../model/task-filter.js";
import { throttle } from "../model/throttle.js";
import { TaskDetail } from "./task-detail.js";
import { TaskFilters } from "./task-filters.js";
import { TaskCards, TaskTable } from "./task-list.js";
import { PagerNav } from "./pager-nav.js";
import { StrandedNotices, useTaskNames } from "./task-names.js";
import { BulkBar } from "./bulk-bar.js";

const PAGE_SIZE = 50;
const NONE: ReadonlySet<string> = new Set();
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
  previousToken: string;
}

/**
 * The task history: filters and order (in the address, so a view can be
 * shared), paged both ways with the control plane's page tokens (the last
 * page in one request), kept current by the WatchTasks stream, and a detail
 * drawer for one task. A table on wide screens; cards and folded filters on
 * narrow ones.
 */
export function Tasks() {
  const { params } = useStore(route);
  const filter = useMemo(() => filterFromParams(params), [params.toString()]);
  const openId = params.get("open") ?? "";
  const filterKey = filterToParams(filter).toString();
  const narrow = useMedia(NARROW);
  // The page position belongs to one filter: a new filter starts again at the newest tasks.
  const [at, setAt] = useState<{ filterKey: string; position: PagePosition }>(() => ({ filterKey, position: FIRST_PAGE }));
  const position = at.filterKey === filterKey ? at.position : FIRST_PAGE;
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [live, setLive] = useState(true);
  const [loadedAt, setLoadedAt] = useState(0);
  const [reloads, setReloads] = useState(0);
  // Ticked rows belong to one listing: a new filter or page starts with none.
  const [selection, setSelection] = useState<{ key: string; ids: ReadonlySet<string> }>({ key: "", ids: new Set() });
  const selectionKey = `${filterKey}|${position.token}|${position.last}`;
  const selected = selection.key === selectionKey ? selection.ids : NONE;
  const onSelect = (ids: readonly string[], on: boolean): void => {
    const next = new Set(selected);
    for (const id of ids) {
      if (on) next.add(id);
      else next.delete(id);
    }
    setSelection({ key: selectionKey, ids: next });
  };

  const names = useTaskNames().names;
  const stranded = useMemo(() => new Set((names ?? []).filter(isStranded).map((n) => n.name)), [names]);
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
        .listTasks(listRequest(filter, position, PAGE_SIZE))
        .then((answer) => {
          if (closed || mine !== seq) return;
          setPage({ rows: answer.tasks.map(taskInfo), total: answer.totalSize, nextToken: answer.nextPageToken, previousToken: answer.previousPageToken });
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
  }, [filterKey, position.token, position.last, live, reloads]);

  const goTo = (next: PagePosition): void => setAt({ filterKey, position: next });

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
  return (
    <div class="tasks-view">
      <TaskFilters filter={filter} onChange={setFilter} live={live} onLive={setLive} folded={narrow} />
      {error && (
        <p class="error-text" role="alert">
          Cannot list tasks: {error}
        </p>
      )}
      <section class="panel panel-list" aria-label="Task list">
        <BulkBar filter={filter} selected={selected} onClear={() => setSelection({ key: selectionKey, ids: NONE })} onDone={() => setReloads((n) => n + 1)} />
        {names !== undefined && <StrandedNotices names={names.filter((n) => n.name === filter.task || page?.rows.some((r) => r.name === n.name && (r.state === "queued" || r.state === "scheduled")))} />}
        {page === undefined ? (
          <p class="muted">Loading…</p>
        ) : page.rows.length === 0 ? (
          <div class="empty-state">
            <h2>{first > 0 || position.token ? "No tasks on this page any more" : isFiltered(filter) ? "No task matches these filters" : "No tasks yet"}</h2>
            <p>
              {first > 0 || position.token ? (
                <button type="button" class="link" onClick={() => goTo(FIRST_PAGE)}>
                  Back to the first page
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
          <TaskCards rows={page.rows} openId={openId} openHref={openHref} onOpen={open} onChanged={onChanged} stranded={stranded} selected={selected} onSelect={onSelect} />
        ) : (
          <TaskTable rows={page.rows} openId={openId} openHref={openHref} onOpen={open} onChanged={onChanged} stranded={stranded} selected={selected} onSelect={onSelect} />
        )}
        {page !== undefined && page.rows.length > 0 && (
          <PagerNav
            order={filter.order}
            first={first}
            rows={page.rows.length}
            total={page.total}
            pageSize={PAGE_SIZE}
            listedMs={loadedAt}
            atLast={position.last || !page.nextToken}
            onFirst={first > 0 || position.token || position.last ? () => goTo(FIRST_PAGE) : undefined}
            onPrevious={page.previousToken || (first > 0 && position.last) ? () => goTo(previousPage(position, PAGE_SIZE, page.previousToken)) : undefined}
            onNext={page.nextToken ? () => goTo(nextPage(position, page.rows.length, page.nextToken)) : undefined}
            onLast={!position.last && page.nextToken ? () => goTo(lastPage(page.total, PAGE_SIZE)) : undefined}
          />
        )}
      </section>
      {openId && <TaskDetail key={openId} id={openId} onClose={() => open(undefined)} />}
    </div>
  );
}
