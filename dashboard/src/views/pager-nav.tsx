import type { TaskOrderName } from "../../../client/task-filter.js";
import { count } from "../model/format.js";

/** The buttons' words in each order: where the first and last pages are. */
const LABELS: Record<TaskOrderName, { first: string; previous: string; next: string; last: string }> = {
  newest: { first: "Newest", previous: "← Newer", next: "Older →", last: "Oldest" },
  oldest: { first: "Oldest", previous: "← Older", next: "Newer →", last: "Newest" },
  "next-to-run": { first: "Runs first", previous: "← Sooner", next: "Later →", last: "Runs last" },
};

/** What {@link PagerNav} shows and does; an absent action disables its button. */
export interface PagerNavProps {
  order: TaskOrderName;
  /** Tasks before this page. */
  first: number;
  rows: number;
  total: number;
  pageSize: number;
  /** How long the page took to list, in ms (0: not measured). */
  listedMs: number;
  atLast: boolean;
  onFirst: (() => void) | undefined;
  onPrevious: (() => void) | undefined;
  onNext: (() => void) | undefined;
  onLast: (() => void) | undefined;
}

/** "51–100 of 1,234 · page 2 of 25", and the way to the first, previous, next and last pages (each one request). */
export function PagerNav(props: PagerNavProps) {
  const labels = LABELS[props.order];
  const pages = Math.max(1, Math.ceil(props.total / props.pageSize));
  const page = props.atLast ? pages : Math.min(pages, Math.floor(props.first / props.pageSize) + 1);
  const button = (label: string, action: (() => void) | undefined, title?: string) => (
    <button type="button" class="button" disabled={action === undefined} onClick={action} title={title}>
      {label}
    </button>
  );
  return (
    <nav class="pager" aria-label="Pages">
      <span class="muted" data-testid="page-range">
        {count(props.first + 1)}–{count(props.first + props.rows)} of {count(props.total)}
        <span class="small">
          {" "}
          · page {count(page)} of {count(pages)}
          {props.listedMs > 0 && ` · listed in ${Math.round(props.listedMs)} ms`}
        </span>
      </span>
      <span class="pager-buttons">
        {button(labels.first, props.onFirst)}
        {button(labels.previous, props.onPrevious)}
        {button(labels.next, props.onNext)}
        {button(labels.last, props.onLast, "The last page, in one request")}
      </span>
    </nav>
  );
}
