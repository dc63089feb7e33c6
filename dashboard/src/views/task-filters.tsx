import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { PRIORITY_NAMES } from "../../../common/priority.js";
import { TASK_STATE_NAMES, type TaskStateName } from "../../../common/task-state.js";
import { liveStats } from "../live/live.js";
import { useStore } from "../model/store.js";
import { filterCount, type TaskFilter } from "../model/task-filter.js";
import type { TaskOrderName } from "../../../client/task-filter.js";

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

/** The text fields, applied after a short pause in typing. */
type Typed = Pick<TaskFilter, "task" | "contains" | "id" | "text">;

function FilterForm({ filter, onChange, children }: TaskFiltersProps & { children?: ComponentChildren }) {
  const { workers } = useStore(liveStats);
  const names = useMemo(() => [...new Set(workers.flatMap((w) => w.tasks))].sort(), [workers]);
  const typedNow = (f: TaskFilter): Typed => ({ task: f.task, contains: f.contains, id: f.id, text: f.text });
  const [typed, setTyped] = useState<Typed>(() => typedNow(filter));
  useEffect(() => setTyped(typedNow(filter)), [filter.task, filter.contains, filter.id, filter.text]);
  // Typing filters after a short pause, without a history entry per key. The
  // pause reads the latest filter, so a state chip clicked meanwhile stays.
  const latest = useRef(filter);
  latest.current = filter;
  useEffect(() => {
    const f = latest.current;
    if (typed.task === f.task && typed.contains === f.contains && typed.id === f.id && typed.text === f.text) return;
    const timer = setTimeout(() => onChange({ ...latest.current, ...typed }, true), 300);
    return () => clearTimeout(timer);
  }, [typed.task, typed.contains, typed.id, typed.text]);

  const toggle = (state: TaskStateName): void => {
    const states = filter.states.includes(state) ? filter.states.filter((s) => s !== state) : [...filter.states, state];
    onChange({ ...filter, states: TASK_STATE_NAMES.filter((s) => states.includes(s)) });
  };
  const text = (label: string, key: keyof Typed, placeholder: string, list?: string) => (
    <label>
      <span>{label}</span>
      <input type="search" list={list} placeholder={placeholder} value={typed[key]} spellcheck={false} onInput={(e) => setTyped({ ...typed, [key]: e.currentTarget.value })} />
    </label>
  );
  const known = workers.some((w) => w.id === filter.worker || w.name === filter.worker);
  return (
    <form id="task-filters" class="filters" role="search" aria-label="Filter tasks" onSubmit={(e) => e.preventDefault()}>
      <div class="chips" role="group" aria-label="State">
        {TASK_STATE_NAMES.map((s) => (
          <button key={s} type="button" class={`chip chip-${s}`} aria-pressed={filter.states.includes(s)} onClick={() => toggle(s)}>
            {s}
          </button>
        ))}
      </div>
      {text("Task", "task", "any name", "task-names")}
      <datalist id="task-names">
        {names.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      {text("Name contains", "contains", "part of a name")}
      {text("Search", "text", "in args and errors")}
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
        <span>Worker</span>
        <select value={filter.worker} onChange={(e) => onChange({ ...filter, worker: e.currentTarget.value })}>
          <option value="">any</option>
          {!known && filter.worker && <option value={filter.worker}>{filter.worker}</option>}
          {workers.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
              {w.state === "lost" ? " (lost)" : ""}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Created from</span>
        <input type="datetime-local" value={filter.from} onChange={(e) => onChange({ ...filter, from: e.currentTarget.value })} />
      </label>
      <label>
        <span>Created before</span>
        <input type="datetime-local" value={filter.to} onChange={(e) => onChange({ ...filter, to: e.currentTarget.value })} />
      </label>
      {text("ID", "id", "starts with…")}
      <label>
        <span>Order</span>
        <select value={filter.order} onChange={(e) => onChange({ ...filter, order: e.currentTarget.value as TaskOrderName })}>
          <option value="newest">newest first</option>
          <option value="oldest">oldest first</option>
          <option value="next-to-run">next to run</option>
        </select>
      </label>
      {children}
    </form>
  );
}
