import { bulkSelectionMessage, type BulkOptions } from "../../../client/task-filter.js";
import { useState } from "preact/hooks";
import { tasks } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { ConfirmDialog } from "../components/confirm.js";
import { count } from "../model/format.js";
import { filterOptions, isFiltered, type TaskFilter } from "../model/task-filter.js";
import { toast } from "../model/toasts.js";

type Verb = "cancel" | "retry";

/** A counted action waiting for its confirmation. */
interface Asked {
  verb: Verb;
  /** Tasks it applies to now (the dry run's count), confirmed with the action. */
  matched: number;
  /** Selected ids it does not apply to (wrong state, gone). */
  skipped: number;
  selection: BulkOptions;
  what: string;
}

const STATES: Record<Verb, string> = { cancel: "queued, scheduled or running", retry: "failed or cancelled" };

/**
 * Actions on many tasks: on the rows ticked, or on every task the filters
 * match. Each asks the control plane how many tasks it would touch (a dry
 * run), shows that count, and sends it with the confirmation: if the
 * tasks moved on meanwhile, nothing happens and the new count is shown.
 */
export function BulkBar({ filter, selected, onClear, onDone }: { filter: TaskFilter; selected: ReadonlySet<string>; onClear: () => void; onDone: () => void }) {
  const [asked, setAsked] = useState<Asked | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const ids = [...selected];

  const call = (verb: Verb, selection: BulkOptions) =>
    verb === "cancel"
      ? tasks.cancelTasks({ selection: bulkSelectionMessage(selection), reason: "cancelled from the dashboard" })
      : tasks.retryTasks({ selection: bulkSelectionMessage(selection) });

  const ask = async (verb: Verb, selection: BulkOptions, what: string): Promise<void> => {
    setBusy(true);
    try {
      const answer = await call(verb, selection);
      const matched = Number(answer.matched);
      if (matched === 0) toast("error", `No ${STATES[verb]} task among ${what}: nothing to ${verb}`);
      else setAsked({ verb, matched, skipped: Number(answer.skipped), selection, what });
    } catch (err) {
      toast("error", `Could not count the tasks to ${verb}: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };

  const confirm = async (a: Asked): Promise<void> => {
    setBusy(true);
    try {
      const answer = await call(a.verb, { ...a.selection, expectedCount: a.matched });
      toast("ok", `${a.verb === "cancel" ? "Cancelled" : "Retrying"} ${count(Number(answer.done))} tasks`);
      setAsked(undefined);
      onClear();
      onDone();
    } catch (err) {
      toast("error", `Nothing was ${a.verb === "cancel" ? "cancelled" : "retried"}: ${errorText(err)}`);
      setAsked(undefined);
    } finally {
      setBusy(false);
    }
  };

  const everything = isFiltered(filter) ? "the tasks these filters match" : "all tasks";
  return (
    <div class="bulk-bar" role="toolbar" aria-label="Actions on many tasks">
      {ids.length > 0 ? (
        <>
          <span data-testid="selected-count">{count(ids.length)} selected</span>
          <button type="button" class="button button-small button-danger-outline" disabled={busy} onClick={() => void ask("cancel", { ids }, "the selected tasks")}>
            Cancel selected
          </button>
          <button type="button" class="button button-small button-primary-outline" disabled={busy} onClick={() => void ask("retry", { ids }, "the selected tasks")}>
            Retry selected
          </button>
          <button type="button" class="button button-small" onClick={onClear}>
            Clear selection
          </button>
        </>
      ) : (
        <>
          <span class="muted small">Every matching task:</span>
          <button type="button" class="button button-small button-danger-outline" disabled={busy} onClick={() => void ask("cancel", filterOptions(filter), everything)}>
            Cancel all…
          </button>
          <button type="button" class="button button-small button-primary-outline" disabled={busy} onClick={() => void ask("retry", filterOptions(filter), everything)}>
            Retry all…
          </button>
        </>
      )}
      {asked && (
        <ConfirmDialog
          title={`${asked.verb === "cancel" ? "Cancel" : "Retry"} ${count(asked.matched)} task${asked.matched === 1 ? "" : "s"}?`}
          confirmLabel={`${asked.verb === "cancel" ? "Cancel" : "Retry"} ${count(asked.matched)} task${asked.matched === 1 ? "" : "s"}`}
          danger={asked.verb === "cancel"}
          busy={busy}
          onConfirm={() => void confirm(asked)}
          onClose={() => !busy && setAsked(undefined)}
        >
          <p data-testid="bulk-count">
            {count(asked.matched)} {STATES[asked.verb]} task{asked.matched === 1 ? "" : "s"} among {asked.what}
            {asked.skipped > 0 && ` (${count(asked.skipped)} selected ${asked.skipped === 1 ? "is" : "are"} in another state and left alone)`}.
          </p>
          <p>
            {asked.verb === "cancel"
              ? "Waiting ones will not run; running handlers get a cancel signal."
              : "Each is queued again and runs as a fresh series of attempts."}{" "}
            If the count has changed by the time you confirm, nothing is done and you are told.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
