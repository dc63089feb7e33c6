import type { WorkerInfo } from "../../../client/task-info.js";
import { Ago } from "../components/ago.js";
import { Badge } from "../components/badge.js";
import { NARROW, useMedia } from "../components/media.js";
import { ScrollTable } from "../components/table.js";
import { liveStats } from "../live/live.js";
import { count, rate } from "../model/format.js";
import { href } from "../model/route.js";
import { useStore } from "../model/store.js";

const STATE_HELP: Record<string, string> = {
  active: "connected and taking work",
  draining: "finishing its tasks; takes no new ones",
  disconnected: "its dispatch stream closed; it may come back",
  lost: "missed its lease; its tasks went to other workers",
};

/**
 * Every registered worker (and the recently lost ones), live. Workers count
 * attempts, not tasks: a task tried three times is three attempts here. A
 * worker's name opens the tasks it ran. A table on wide screens, one card
 * per worker on narrow ones.
 */
export function Workers() {
  const { workers, stats } = useStore(liveStats);
  const narrow = useMedia(NARROW);
  if (stats === undefined) return <p class="empty">Waiting for the control plane…</p>;
  if (workers.length === 0) {
    return (
      <div class="empty-state">
        <h2>No workers yet</h2>
        <p>
          Tasks stay queued until a worker that serves their name connects. Start one with{" "}
          <code>npx fw-worker --tasks your-tasks.ts</code>, or run the control plane with <code>--tasks</code>.
        </p>
      </div>
    );
  }
  const busy = workers.reduce((sum, w) => sum + w.inFlight, 0);
  const slots = workers.filter((w) => w.state === "active").reduce((sum, w) => sum + w.capacity, 0);
  return (
    <section class="panel" aria-labelledby="workers-heading">
      <h2 id="workers-heading">
        Workers{" "}
        <span class="muted small">
          {workers.length} listed · {count(busy)} of {count(slots)} slots busy
        </span>
      </h2>
      {narrow ? <WorkerCards workers={workers} /> : <WorkerTable workers={workers} />}
    </section>
  );
}

function WorkerTable({ workers }: { workers: WorkerInfo[] }) {
  return (
    <ScrollTable
      label="Workers"
      head={
        <>
          <th>Name</th>
          <th>Host</th>
          <th>State</th>
          <th>Tasks</th>
          <th class="num" title="attempts this worker finished, succeeded or failed">
            Attempts
          </th>
          <th class="num">Failed attempts</th>
          <th class="num">In flight</th>
          <th class="num">Rate</th>
          <th>Last heartbeat</th>
          <th>Connected</th>
        </>
      }
    >
      {workers.map((w) => (
        <tr key={w.id} class={w.state === "lost" ? "row-dim" : ""}>
          <td>
            <WorkerLink worker={w} />
            <div class="muted small">v{w.version}</div>
          </td>
          <td>
            {w.host || "—"}
            <div class="muted small">pid {w.pid}</div>
          </td>
          <td>
            <Badge kind={w.state} title={STATE_HELP[w.state]} />
          </td>
          <td>
            <Served tasks={w.tasks} />
          </td>
          <td class="num">{count(w.succeeded + w.failed)}</td>
          <td class="num">{count(w.failed)}</td>
          <td class="num">
            <InFlight worker={w} />
          </td>
          <td class="num">{rate(w.rate)}/s</td>
          <td>
            <Ago time={w.lastHeartbeatAt} />
          </td>
          <td>
            <Ago time={w.connectedAt} />
          </td>
        </tr>
      ))}
    </ScrollTable>
  );
}

function WorkerCards({ workers }: { workers: WorkerInfo[] }) {
  return (
    <ul class="card-list" aria-label="Workers">
      {workers.map((w) => (
        <li key={w.id} class={`item-card${w.state === "lost" ? " row-dim" : ""}`}>
          <div class="item-head">
            <span class="item-title">
              <WorkerLink worker={w} />
            </span>
            <Badge kind={w.state} title={STATE_HELP[w.state]} />
          </div>
          <div class="item-meta muted small">
            {w.host || "—"} · pid {w.pid} · v{w.version}
          </div>
          <dl class="item-facts">
            <div>
              <dt>In flight</dt>
              <dd>
                <InFlight worker={w} />
              </dd>
            </div>
            <div>
              <dt>Attempts</dt>
              <dd>{count(w.succeeded + w.failed)}</dd>
            </div>
            <div>
              <dt>Failed attempts</dt>
              <dd>{count(w.failed)}</dd>
            </div>
            <div>
              <dt>Rate</dt>
              <dd>{rate(w.rate)}/s</dd>
            </div>
            <div>
              <dt>Heartbeat</dt>
              <dd>
                <Ago time={w.lastHeartbeatAt} />
              </dd>
            </div>
          </dl>
          <Served tasks={w.tasks} />
        </li>
      ))}
    </ul>
  );
}

/** The worker's name, linking to the tasks it ran (any attempt). */
function WorkerLink({ worker: w }: { worker: WorkerInfo }) {
  return (
    <a href={href("tasks", new URLSearchParams({ worker: w.id }))} title={`Tasks with an attempt on ${w.name}`}>
      <strong>{w.name}</strong>
    </a>
  );
}

function Served({ tasks }: { tasks: string[] }) {
  return (
    <div class="tags">
      {tasks.map((t) => (
        <code key={t}>{t}</code>
      ))}
    </div>
  );
}

function InFlight({ worker: w }: { worker: WorkerInfo }) {
  return (
    <>
      <Meter value={w.inFlight} max={w.concurrency} />
      {w.inFlight}/{w.concurrency}
      {w.capacity < w.concurrency && w.state === "active" && (
        <div class="muted small" title="slots written off by handlers that ignored their timeout">
          capacity {w.capacity}
        </div>
      )}
    </>
  );
}

function Meter({ value, max }: { value: number; max: number }) {
  const fraction = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <span class="meter" aria-hidden="true">
      <span style={{ width: `${fraction * 100}%` }} />
    </span>
  );
}
