import { taskInfo, type TaskInfo } from "../../../client/task-info.js";
import { tasks } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { shortId } from "../model/format.js";
import { toast } from "../model/toasts.js";
import { useState } from "preact/hooks";
import { ConfirmDialog } from "./confirm.js";

type Action = "cancel" | "retry";

/** Which action a task in this state allows, if any. */
export function actionFor(task: TaskInfo): Action | undefined {
  if (task.state === "queued" || task.state === "scheduled" || task.state === "running") return "cancel";
  if (task.state === "failed" || task.state === "cancelled") return "retry";
  return undefined;
}

/**
 * Cancel (queued, scheduled, running) or Retry (failed, cancelled), each
 * after a confirmation, and Run now for a scheduled task (delayed or
 * waiting to retry: queued at once); the outcome appears as a toast and `onDone` receives
 * the task as the control plane answered.
 */
export function TaskActions({ task, onDone, small }: { task: TaskInfo; onDone?: (task: TaskInfo) => void; small?: boolean }) {
  const [asking, setAsking] = useState<Action | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const action = actionFor(task);
  if (action === undefined) return null;

  const run = async (): Promise<void> => {
    setBusy(true);
    const label = `${task.name} ${shortId(task.id)}`;
    try {
      const answer = action === "cancel" ? await tasks.cancelTask({ id: task.id, reason: "cancelled from the dashboard" }) : await tasks.retryTask({ id: task.id });
      const updated = answer.task === undefined ? undefined : taskInfo(answer.task);
      toast("ok", action === "cancel" ? `Cancelled ${label}` : `Retrying ${label}: now ${updated?.state ?? "queued"}`);
      if (updated) onDone?.(updated);
    } catch (err) {
      toast("error", `Could not ${action} ${label}: ${errorText(err)}`);
    } finally {
      setBusy(false);
      setAsking(undefined);
    }
  };

  const runNow = async (): Promise<void> => {
    setBusy(true);
    try {
      const answer = await tasks.runTaskNow({ id: task.id });
      toast("ok", `Queued ${task.name} ${shortId(task.id)} now`);
      if (answer.task) onDone?.(taskInfo(answer.task));
    } catch (err) {
      toast("error", `Could not run ${task.name} ${shortId(task.id)} now: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {task.state === "scheduled" && (
        <button
          type="button"
          class={`button ${small ? "button-small" : ""} button-primary-outline`}
          disabled={busy}
          onClick={(e) => {
            e.stopPropagation();
            void runNow();
          }}
        >
          Run now
        </button>
      )}{" "}
      <button
        type="button"
        class={`button ${small ? "button-small" : ""} ${action === "cancel" ? "button-danger-outline" : "button-primary-outline"}`}
        onClick={(e) => {
          e.stopPropagation();
          setAsking(action);
        }}
      >
        {action === "cancel" ? "Cancel" : "Retry"}
      </button>
      {asking && (
        <ConfirmDialog
          title={action === "cancel" ? "Cancel this task?" : "Retry this task?"}
          confirmLabel={action === "cancel" ? "Cancel task" : "Retry task"}
          danger={action === "cancel"}
          busy={busy}
          onConfirm={() => void run()}
          onClose={() => !busy && setAsking(undefined)}
        >
          <p>
            <strong>{task.name}</strong> <code>{task.id}</code> is {task.state}.
          </p>
          <p>
            {action === "cancel"
              ? task.state === "running"
                ? "Its handler gets a cancel signal (ctx.signal aborts) and the task ends as cancelled."
                : "It will not run; it ends as cancelled."
              : "It is queued again and runs as a fresh series of attempts."}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
