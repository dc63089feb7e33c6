import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { WorkerService, type DispatchResponse, type ReportResultsRequest, type ReportResultsResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { MAX_REPORT_ITEMS } from "../../common/stream-limits.js";
import { durationFromMs } from "../../common/time.js";
import { VERSION } from "../../common/version.js";
import type { Logger } from "../../common/logger.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { TEXT_LIMITS, truncateText } from "../engine/text-limits.js";
import { validateDefinition } from "../engine/validate.js";
import { unreadBound } from "./stream-bounds.js";
import { validateDeclarations } from "../engine/declarations.js";

const MAX_CONCURRENCY = 100_000;
/** The most task definitions one worker registers. */
const MAX_TASKS_PER_WORKER = 10_000;

/** Report items a stream applies before the event loop gets a turn. */
const YIELD_EVERY = 10_000;

function reportItems(request: ReportResultsRequest): number {
  return request.acks.length + request.results.length + request.progress.length + request.released.length;
}

/** A dispatch message's size for the unread bound: args and texts (UTF-16 units) and an allowance per item. */
function dispatchSize(message: DispatchResponse): number {
  let bytes = 16;
  for (const a of message.assignments) bytes += a.argsJson.length + a.task.length + 128;
  for (const c of message.cancels) bytes += c.reason.length + c.taskId.length + 16;
  return bytes;
}

/** A report answer's size for the unread bound. */
function answerSize(answer: ReportResultsResponse): number {
  let bytes = 16;
  for (const r of answer.rejected) bytes += (r.status?.message.length ?? 0) + r.taskId.length + 16;
  return bytes;
}

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
      if (request.tasks.length > MAX_TASKS_PER_WORKER) {
        throw new ConnectError(`a worker serves at most ${MAX_TASKS_PER_WORKER} tasks (got ${request.tasks.length})`, Code.InvalidArgument);
      }
      for (const definition of request.tasks) {
        validateDefinition(definition);
        validateDeclarations(definition, plane.config.maxPayloadBytes); // schedules and flow limits
      }
      const names = [...new Set(request.tasks.map((t) => t.name))];
      const worker = plane.register(
        {
          name: truncateText(request.name || `worker-${request.pid}`, TEXT_LIMITS.workerName),
          host: truncateText(request.host, TEXT_LIMITS.workerHost),
          pid: request.pid,
          version: truncateText(request.version, TEXT_LIMITS.workerVersion),
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
      const held = request.held?.attempts;
      if (held !== undefined && held.length > worker.identity.concurrency * 2 + 1000) {
        // It cannot hold more than its concurrency (plus what earlier sessions left running): a bad request.
        throw new ConnectError(`the dispatch request says the worker holds ${held.length} attempts; its concurrency is ${worker.identity.concurrency}`, Code.InvalidArgument);
      }
      const stream = new AsyncQueue<DispatchResponse>({
        bound: unreadBound("Dispatch", plane.config.maxPayloadBytes, dispatchSize, "a worker reads its dispatch stream as it comes; register again"),
      });
      plane.attach(worker, stream, request.capacity, held, Date.now());
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
      const out = new AsyncQueue<ReportResultsResponse>({
        bound: unreadBound("ReportResults", plane.config.maxPayloadBytes, answerSize, "a worker reads the answers to its reports"),
      });
      // Answers leave in order: each waits for the one before it and for its own commit.
      let answered: Promise<void> = Promise.resolve();
      void (async () => {
        try {
          let items = 0;
          for await (const request of requests) {
            const count = reportItems(request);
            if (count > MAX_REPORT_ITEMS) {
              throw new ConnectError(`a report carries at most ${MAX_REPORT_ITEMS} items (got ${count}); send them in several reports (fw-worker does)`, Code.ResourceExhausted);
            }
            const response = plane.report(plane.reportingWorker(request.workerId), request, Date.now());
            const durable = plane.durable();
            answered = answered.then(async () => {
              await durable;
              out.push(response);
            });
            answered.catch(() => undefined); // seen at the end of the loop
            if ((items += count) >= YIELD_EVERY) {
              // Heartbeats and other workers' reports get a turn (the transport stops reading meanwhile).
              items = 0;
              await new Promise((resolve) => setImmediate(resolve));
            }
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
