import type { TaskInfo } from "../../../client/task-info.js";
import { timestampToMs } from "../../../common/time.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { tasks } from "../api/clients.js";
import { errorText } from "../api/errors.js";
import { count } from "../model/format.js";
import { throttle } from "../model/throttle.js";

/** How often a running task's log is asked for new lines when nothing else changed. */
const POLL_MS = 2000;

interface Line {
  time: number;
  attempt: number;
  text: string;
}

/**
 * The lines a task's handlers wrote with ctx.log() (GetTaskLogs): fetched
 * once, then only the new ones whenever the task changes (a log report
 * reaches the live stream as a change) and every 2 s while it runs.
 */
export function TaskLogs({ task }: { task: TaskInfo }) {
  const [lines, setLines] = useState<Line[]>([]);
  const [dropped, setDropped] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const after = useRef(0);
  const load = useRef<ReturnType<typeof throttle> | undefined>(undefined);

  useEffect(() => {
    let closed = false;
    after.current = 0;
    setLines([]);
    load.current = throttle(() => {
      tasks
        .getTaskLogs({ id: task.id, after: after.current })
        .then((answer) => {
          if (closed || answer.lines.length === 0 && answer.dropped === 0) return;
          const added = answer.lines.map((l) => ({ time: timestampToMs(l.time), attempt: l.attempt, text: l.text }));
          after.current = answer.nextAfter;
          setLines((old) => [...old, ...added]);
          setDropped(answer.dropped);
          setError(undefined);
        })
        .catch((err: unknown) => !closed && setError(errorText(err)));
    }, 500);
    load.current();
    const poll = setInterval(() => load.current?.(), POLL_MS);
    return () => {
      closed = true;
      load.current?.cancel();
      clearInterval(poll);
    };
  }, [task.id]);

  // Any change to the task (a progress or log report, a new state) may have brought lines.
  useEffect(() => {
    load.current?.();
  }, [task]);

  return (
    <section aria-labelledby="detail-logs">
      <h3 id="detail-logs">
        Logs {lines.length > 0 && <span class="muted small">({count(lines.length)} lines)</span>}
      </h3>
      {error && <p class="error-text">{error}</p>}
      {lines.length === 0 ? (
        <p class="muted small">No log lines. Handlers write them with <code>ctx.log("…")</code>.</p>
      ) : (
        <pre class="log" tabIndex={0} aria-label="Task log" data-testid="task-log">
          {lines.map((l, i) => (
            <div key={i} class="log-line">
              <span class="log-time">{new Date(l.time).toLocaleTimeString(undefined, { hour12: false })}</span>{" "}
              {task.attempt > 1 && <span class="log-attempt">#{l.attempt} </span>}
              {l.text}
            </div>
          ))}
        </pre>
      )}
      {dropped > 0 && <p class="muted small">{count(dropped)} later lines were dropped: a task keeps at most 1,000 lines and 64 KiB.</p>}
    </section>
  );
}
