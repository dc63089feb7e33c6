import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AdminService,
  WatchStatsResponseSchema,
  WorkerInfoSchema,
  type WatchStatsResponse,
  type WorkerInfo,
} from "../../gen/fastworker/v1/admin_service_pb.js";
import { durationToMs, timestampFromMs } from "../../common/time.js";
import type { ControlPlane } from "../control-plane.js";
import { statsMessage } from "../stats.js";
import type { WorkerSession } from "../worker-session.js";

/** AdminService, implemented once for both transports. */
export function adminService(plane: ControlPlane): ServiceImpl<typeof AdminService> {
  const stats = (now: number) => statsMessage(plane.stats, plane.store.counts(), plane.workers.size, now);
  return {
    getStats() {
      return { stats: stats(Date.now()) };
    },

    async *watchStats(request, ctx): AsyncIterable<WatchStatsResponse> {
      const intervalMs = Math.max(100, durationToMs(request.interval) || 1000);
      while (!ctx.signal.aborted) {
        yield create(WatchStatsResponseSchema, { stats: stats(Date.now()) });
        try {
          await sleep(intervalMs, undefined, { signal: ctx.signal });
        } catch {
          return; // the client went away
        }
      }
    },

    listWorkers() {
      const now = Date.now();
      return { workers: plane.workers.listed().map((w) => workerInfo(w, now)) };
    },
  };
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
