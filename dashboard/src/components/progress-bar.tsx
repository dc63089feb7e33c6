import { progressLabel } from "../../../client/task-summary.js";

/**
 * What a running handler last reported: a bar (indeterminate when it gave
 * only a message) and the label, said once ("40% of 30000 ms", not "40% 40%
 * of 30000 ms"). `compact` shows the percentage alone, the message on hover.
 */
export function ProgressBar({ progress, compact }: { progress: { fraction: number; message: string }; compact?: boolean }) {
  const { fraction, text } = progressLabel(progress);
  const short = compact && fraction !== undefined ? `${Math.round(fraction * 100)}%` : text;
  return (
    <span class={`progress${compact ? " progress-compact" : ""}`} title={compact ? text : undefined} data-testid="progress">
      {/* No value at all (not undefined): an indeterminate bar. */}
      <progress max={1} {...(fraction === undefined ? {} : { value: fraction })} aria-label={`Progress: ${text}`} />
      <span class="progress-text">{short}</span>
    </span>
  );
}
