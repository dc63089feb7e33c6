import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { WorkerService, type DispatchResponse, type ReportResultsResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { durationFromMs } from "../../common/time.js";
import { VERSION } from "../../common/version.js";
import type { Logger } from "../../common/logger.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { validateDefinition } from "../engine/validate.js";
import { validateDeclarations } from "../engine/declarations.js";

const MAX_CONCURRENCY = 100_000;

/** WorkerService, implemented once for both transports. */
export function workerService(plane: ControlPlane, logger: Logger): ServiceImpl<typeof WorkerService> {
  return {
    async registerWorker(request) {
      if (!(request.concurrency >= 1 && request.concurrency <= MAX_CONCURRENCY)) {
        throw new ConnectError(`concurrency must be between 1 and ${MAX_CONCURRENCY} (got ${request.concurrency})`, Code.InvalidArgument);
      }
      if (request.tasks.length === 0) {
        throw new ConnectError("a worker must serve at least one task; its task modules export none", Code.InvalidArgument);
      }
      for (const definition of request.tasks) {
        validateDefinition(definition);
        validateDeclarations(definition, plane.config.maxPayloadBytes); // schedules and flow limits
      }
      const names = [...new Set(request.tasks.map((t) => t.name))];
      const worker = plane.register(
        {
          name: request.name || `worker-${request.pid}`,
          host: request.host,
          pid: request.pid,
          version: request.version,
          concurrency: request.concurrency,
          names,
        },
        request.tasks,
        Date.now(),
      );
      logger.info({ worker: worker.name, workerId: worker.id, tasks: names, concurrency: request.concurrency }, "worker registered");
      await plane.durable(); // the session survives a restart from here on
      return {
        workerId: worker.id,
        heartbeatInterval: durationFromMs(plane.config.heartbeatIntervalMs),
        leaseTimeout: durationFromMs(plane.config.leaseTimeoutMs),
        serverVersion: VERSION,
        maxPayloadBytes: BigInt(plane.config.maxPayloadBytes),
      };
    },

    dispatch(request, ctx) {
      const worker = plane.worker(request.workerId);
      const stream = new AsyncQueue<DispatchResponse>();
      plane.attach(worker, stream, request.capacity, request.held?.attempts, Date.now());
      ctx.signal.addEventListener("abort", () => {
        plane.detach(worker, stream, Date.now());
        stream.close();
      });
      return stream;
    },

    reportResults(requests, ctx) {
      // Each report is applied as it arrives (its results free credits at once, so work keeps
      // flowing), and answered, in order, once what it changed is on disk: the worker forgets what it
      // reported when answered. A worker may have several reports in flight.
      const out = new AsyncQueue<ReportResultsResponse>();
      // Answers leave in order: each waits for the one before it and for its own commit.
      let answered: Promise<void> = Promise.resolve();
      void (async () => {
        try {
          for await (const request of requests) {
            const response = plane.report(plane.reportingWorker(request.workerId), request, Date.now());
            const durable = plane.durable();
            answered = answered.then(async () => {
              await durable;
              out.push(response);
            });
            answered.catch(() => undefined); // seen at the end of the loop
          }
          await answered;
          out.close();
        } catch (err) {
          // A refused report (e.g. NOT_FOUND: register again) ends the stream after the answers before it.
          await answered.catch(() => undefined);
          if (!ctx.signal.aborted) out.fail(err);
        }
      })();
      return out;
    },
  };
}
