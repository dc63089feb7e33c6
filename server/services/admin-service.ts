import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AdminService,
  TaskNameStatsSchema,
  WatchStatsResponseSchema,
  WorkerInfoSchema,
  type TaskNameStats,
  type WatchStatsResponse,
  type WorkerInfo,
} from "../../gen/fastworker/v1/admin_service_pb.js";
import { TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { durationFromMs, durationToMs, timestampFromMs } from "../../common/time.js";
import type { ControlPlane } from "../engine/control-plane.js";
import type { DashboardFeeds } from "../dashboard/dashboard-feeds.js";
import { statsMessage } from "../engine/stats.js";
import { taskNameRow, taskNameRows, type TaskNameRow } from "../engine/task-names.js";
import { validateTaskName } from "../engine/validate.js";
import type { WorkerSession } from "../engine/worker-session.js";

/** The longest WatchStats interval. */
const MAX_WATCH_INTERVAL_MS = 3600_000;

/** AdminService, implemented once for both transports. */
export function adminService(plane: ControlPlane, feeds: DashboardFeeds): ServiceImpl<typeof AdminService> {
  const stats = (now: number) => statsMessage(plane.stats, plane.store.counts(), plane.workers.size, now);
  const workers = (now: number) => plane.workers.listed().map((w) => workerInfo(w, now));
  return {
    getStats() {
      return { stats: stats(Date.now()) };
    },

    async *watchStats(request, ctx): AsyncIterable<WatchStatsResponse> {
      const requested = durationToMs(request.interval) ?? 0;
      if (!(requested >= 0 && requested <= MAX_WATCH_INTERVAL_MS)) {
        // Past 2^31 ms a timer fires at once: an unchecked interval would stream as fast as it can.
        throw new ConnectError(`the interval must be between 0 and ${MAX_WATCH_INTERVAL_MS / 1000}s (got ${requested / 1000}s)`, Code.InvalidArgument);
      }
      const intervalMs = Math.max(100, requested || 1000);
      // Ends when the client goes away or the control plane shuts down.
      const signal = AbortSignal.any([ctx.signal, feeds.closed]);
      let sentSample = 0;
      while (!signal.aborted) {
        const now = Date.now();
        const message = create(WatchStatsResponseSchema, { stats: stats(now) });
        if (request.includeWorkers) message.workers = workers(now);
        if (request.includeHistory) {
          message.samples = feeds.history.since(sentSample);
          sentSample = feeds.history.latest;
        }
        yield message;
        try {
          await sleep(intervalMs, undefined, { signal });
        } catch {
          return; // aborted: the client went away or the server is stopping
        }
      }
    },

    listWorkers() {
      return { workers: workers(Date.now()) };
    },

    watchTasks(_request, ctx) {
      return feeds.tasks.watch(AbortSignal.any([ctx.signal, feeds.closed]));
    },

    listTaskNames(request) {
      const { rows, total } = taskNameRows(plane, request.limit);
      return { names: rows.map(taskNameStats), totalNames: total };
    },

    async pauseTaskName(request) {
      const name = validateTaskName(request.task);
      plane.pauses.pause(name, Date.now());
      await plane.durable();
      return { name: taskNameStats(taskNameRow(plane, name)) };
    },

    async resumeTaskName(request) {
      const name = validateTaskName(request.task);
      plane.pauses.resume(name);
      await plane.durable();
      return { name: taskNameStats(taskNameRow(plane, name)) };
    },
  };
}

function taskNameStats(row: TaskNameRow): TaskNameStats {
  const n = (state: TaskState): bigint => BigInt(row.counts[state]!);
  return create(TaskNameStatsSchema, {
    name: row.name,
    queued: n(TaskState.QUEUED),
    scheduled: n(TaskState.SCHEDULED),
    running: n(TaskState.RUNNING),
    succeeded: n(TaskState.SUCCEEDED),
    failed: n(TaskState.FAILED),
    cancelled: n(TaskState.CANCELLED),
    workers: row.workers,
    paused: row.pausedAt !== undefined,
    pausedAt: row.pausedAt === undefined ? undefined : timestampFromMs(row.pausedAt),
    runTimeP50: row.runTime === undefined ? undefined : durationFromMs(row.runTime.p50Ms),
    runTimeP95: row.runTime === undefined ? undefined : durationFromMs(row.runTime.p95Ms),
    runTimeSamples: row.runTime?.samples ?? 0,
  });
}

function workerInfo(worker: WorkerSession, now: number): WorkerInfo {
  const id = worker.identity;
  return create(WorkerInfoSchema, {
    id: worker.id,
    name: id.name,
    host: id.host,
    pid: id.pid,
    tasks: [...id.names],
    concurrency: id.concurrency,
    capacity: worker.capacity,
    inFlight: worker.inflight.size,
    state: worker.state,
    succeededTotal: BigInt(worker.succeededTotal),
    failedTotal: BigInt(worker.failedTotal),
    rate: worker.finished.rate(now),
    connectedAt: timestampFromMs(worker.connectedAt),
    lastHeartbeatAt: timestampFromMs(worker.lastHeartbeatAt),
    version: id.version,
  });
}
