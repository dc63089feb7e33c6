import { statsInfo, taskInfo, workerInfo, type StatsInfo, type TaskInfo, type WorkerInfo } from "../../../client/task-info.js";
import { durationFromMs } from "../../../common/time.js";
import { admin } from "../api/clients.js";
import { token } from "../api/token.js";
import { Store } from "../model/store.js";
import { connection, controlPlane } from "./connection.js";
import { reconnectingStream } from "./reconnecting-stream.js";
import { appendSamples, sample, type Sample } from "./samples.js";

/** What the WatchStats stream keeps current. */
export interface LiveStats {
  stats: StatsInfo | undefined;
  workers: WorkerInfo[];
  /** Per-second history, oldest first. */
  samples: Sample[];
  /** When the last message arrived (ms since epoch). */
  updatedAt: number;
}

/** Tasks whose state changed, as one WatchTasks message brings them. */
export interface TaskChanges {
  tasks: TaskInfo[];
  /** Changes the control plane left out: listings should fetch again. */
  omitted: number;
  /** True when the stream (re)opened: anything may have changed meanwhile. */
  resync: boolean;
}

/** Stats, workers and history, updated every second while the page is open. */
export const liveStats = new Store<LiveStats>({ stats: undefined, workers: [], samples: [], updatedAt: 0 });

const changeListeners = new Set<(changes: TaskChanges) => void>();

/** Calls back with every batch of task changes; returns the unsubscribe function. */
export function onTaskChanges(listener: (changes: TaskChanges) => void): () => void {
  changeListeners.add(listener);
  return () => changeListeners.delete(listener);
}

const STATS_INTERVAL_MS = 1000;

/** Wakes the streams waiting to reconnect. */
const wake = new EventTarget();

/** Tries to reconnect now instead of at the end of the backoff ("Retry now"). */
export function retryNow(): void {
  wake.dispatchEvent(new Event("retry"));
}

/**
 * Notes the control plane's start time. A different one than before means
 * it restarted: what the page holds may be gone (an in-memory control plane
 * forgets its tasks), so the views start afresh and a notice says why.
 */
function noteStart(startedAt: Date | undefined): void {
  const ms = startedAt?.getTime();
  const life = controlPlane.value;
  if (ms === undefined || ms === life.startedAt) return;
  if (life.startedAt === undefined) controlPlane.set({ ...life, startedAt: ms });
  else controlPlane.set({ startedAt: ms, restarts: life.restarts + 1, restartedFrom: life.startedAt });
}

/**
 * Opens the page's two live streams, WatchStats (with workers and history)
 * and WatchTasks, and keeps them open across control-plane restarts.
 * Returns the function that closes them.
 */
export function startLive(): () => void {
  const stop = new AbortController();
  const before = connection.value;
  // A token typed into the form is being checked: the form stays until the answer.
  connection.set(before.kind === "unauthenticated" ? { ...before, checking: true } : { kind: "connecting" });
  void reconnectingStream({
    signal: stop.signal,
    wake,
    silenceMs: STATS_INTERVAL_MS * 5,
    open: (signal) => admin.watchStats({ interval: durationFromMs(STATS_INTERVAL_MS), includeWorkers: true, includeHistory: true }, { signal }),
    onMessage: (message, first) => {
      const current = liveStats.value;
      const samples = message.samples.map(sample);
      const stats = message.stats === undefined ? current.stats : statsInfo(message.stats);
      noteStart(stats?.startedAt);
      liveStats.set({
        stats,
        workers: message.workers.map(workerInfo),
        // A new stream sends the whole retained history again.
        samples: first ? samples : appendSamples(current.samples, samples),
        updatedAt: Date.now(),
      });
    },
    onStatus: (status) => {
      if (status.kind === "unauthenticated") {
        connection.set({ kind: "unauthenticated", hadToken: token.value !== "" });
        stop.abort();
      } else {
        connection.set(status);
      }
    },
  });
  void reconnectingStream({
    signal: stop.signal,
    wake,
    open: (signal) => admin.watchTasks({}, { signal }),
    onMessage: (message, first) => {
      const changes: TaskChanges = { tasks: message.tasks.map(taskInfo), omitted: message.omitted, resync: first };
      for (const listener of [...changeListeners]) listener(changes);
    },
    // The stats stream reports the connection; this one only follows it.
    onStatus: () => {},
  });
  return () => stop.abort();
}

/** Forgets the token and what it showed (sign-out): the next person sees the token form, not the last numbers. */
export function forgetLive(): void {
  liveStats.set({ stats: undefined, workers: [], samples: [], updatedAt: 0 });
}
