import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { PRIORITY_NAMES } from "../../../common/priority.js";
import { TASK_STATE_NAMES, type TaskStateName } from "../../../common/task-state.js";
import { liveStats } from "../live/live.js";
import { useStore } from "../model/store.js";
import { filterCount, type TaskFilter } from "../model/task-filter.js";

/** What {@link TaskFilters} takes. */
export interface TaskFiltersProps {
  filter: TaskFilter;
  onChange: (f: TaskFilter, replace?: boolean) => void;
  live: boolean;
  onLive: (on: boolean) => void;
  /** Fold the filters behind a "Filters" button (narrow screens), so the first task shows without scrolling. */
  folded: boolean;
}

/** The task list's filters and its Live switch; folded on narrow screens. */
export function TaskFilters(props: TaskFiltersProps) {
  const [open, setOpen] = useState(false);
  const liveToggle = (
    <label class="toggle" title="Follow changes as they happen; turn off to read a busy list calmly">
      <input type="checkbox" checked={props.live} onChange={(e) => props.onLive(e.currentTarget.checked)} />
      <span>Live</span>
    </label>
  );
  if (!props.folded) return <FilterForm {...props}>{liveToggle}</FilterForm>;
  const active = filterCount(props.filter);
  return (
    <>
      <div class="filter-bar">
        <button type="button" class="button" aria-expanded={open} aria-controls="task-filters" onClick={() => setOpen(!open)}>
          Filters{active > 0 ? ` (${active} on)` : ""} <span aria-hidden="true">{open ? "▴" : "▾"}</span>
        </button>
        {liveToggle}
      </div>
      {open && <FilterForm {...props} />}
    </>
  );
}

function FilterForm({ filter, onChange, children }: TaskFiltersProps & { children?: ComponentChildren }) {
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
    <form id="task-filters" class="filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
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
      {children}
    </form>
  );
}
