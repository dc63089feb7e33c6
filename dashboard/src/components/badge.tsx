import type { ComponentChildren } from "preact";

/** A coloured pill for a task state, worker state or priority; the colour comes from the stylesheet (.badge-<kind>). */
export function Badge({ kind, children, title }: { kind: string; children?: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${kind}`} title={title}>
      {children ?? kind}
    </span>
  );
}
