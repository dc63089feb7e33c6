import type { ComponentChildren } from "preact";

/**
 * A table in a wrapper that scrolls sideways on a mid-size screen. The
 * wrapper is a focusable, named region, so keyboards can scroll it too (a
 * table whose far columns hold nothing focusable could not be read
 * otherwise). `head`: the header row's cells; `children`: the body's rows.
 */
export function ScrollTable({ label, head, children }: { label: string; head: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`${label} table`}>
      <table class="table" aria-label={label}>
        <thead>
          <tr>{head}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The header cell over a column of row actions: named for screen readers, blank on screen. */
export function ActionsHeading() {
  return (
    <th>
      <span class="visually-hidden">Actions</span>
    </th>
  );
}
