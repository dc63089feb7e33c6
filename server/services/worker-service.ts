import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { WorkerService, type DispatchResponse, type ReportResultsRequest, type ReportResultsResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { MAX_REPORT_ITEMS } from "../../common/stream-limits.js";
import { durationFromMs } from "../../common/time.js";
import { VERSION } from "../../common/version.js";
import type { ControlPlane, SecretProof } from "../engine/control-plane.js";
import { TEXT_LIMITS, truncateText } from "../engine/text-limits.js";
import { validateDefinition } from "../engine/validate.js";
import { unreadBound } from "./stream-bounds.js";
import { validateDeclarations } from "../engine/declarations.js";
import type { AuditLog } from "../telemetry/audit-log.js";
import type { WorkerSession } from "../engine/worker-session.js";
import { callerOf, type Caller } from "../transport/call-context.js";

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

/**
 * WorkerService, implemented once for both transports. Registration hands
 * out the session's secret; Dispatch and ReportResults check it before
 * anything else (ControlPlane.authenticWorker / reportingWorker). Audit
 * lines say who (worker, session, credential) and from where (peer).
 */
export function workerService(plane: ControlPlane, audit: AuditLog): ServiceImpl<typeof WorkerService> {
  return {
    async registerWorker(request, ctx) {
      const { peer, credential } = callerOf(ctx);
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
      const name = truncateText(request.name || `worker-${request.pid}`, TEXT_LIMITS.workerName);
      const namesakes = [...plane.workers.live()].filter((w) => w.name === name).map((w) => w.id);
      let registration;
      try {
        registration = plane.register(
          { name, host: truncateText(request.host, TEXT_LIMITS.workerHost), pid: request.pid, version: truncateText(request.version, TEXT_LIMITS.workerVersion), concurrency: request.concurrency, names },
          request.tasks,
          Date.now(),
        );
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.FailedPrecondition) {
          audit.limited("definition-conflict", "warn", { worker: name, host: request.host, peer, credential }, `registration of worker ${JSON.stringify(name)} refused: ${err.rawMessage}`);
        }
        throw err;
      }
      const { worker, secret, changed } = registration;
      const who = { worker: worker.name, workerId: worker.id, host: request.host, pid: request.pid, peer, credential };
      for (const change of changed) {
        audit.log("info", { ...who, task: change.name, differences: change.differences }, `definition of task ${JSON.stringify(change.name)} changed by worker ${JSON.stringify(worker.name)}: ${change.differences.join(", ")}`);
      }
      audit.log(
        "info",
        { ...who, tasks: names, concurrency: request.concurrency, ...(namesakes.length > 0 ? { sameNameAs: namesakes } : {}) },
        namesakes.length > 0 ? `worker registered, beside ${namesakes.length} connected worker(s) of the same name` : "worker registered",
      );
      await plane.durable(); // the session survives a restart from here on
      return {
        workerId: worker.id,
        sessionSecret: secret,
        heartbeatInterval: durationFromMs(plane.config.heartbeatIntervalMs),
        leaseTimeout: durationFromMs(plane.config.leaseTimeoutMs),
        serverVersion: VERSION,
        maxPayloadBytes: BigInt(plane.config.maxPayloadBytes),
      };
    },

    dispatch(request, ctx) {
      const worker = plane.authenticWorker(request.workerId, request.sessionSecret);
      const held = request.held?.attempts;
      if (held !== undefined && held.length > worker.identity.concurrency * 2 + 1000) {
        // It cannot hold more than its concurrency (plus what earlier sessions left running): a bad request.
        throw new ConnectError(`the dispatch request says the worker holds ${held.length} attempts; its concurrency is ${worker.identity.concurrency}`, Code.InvalidArgument);
      }
      if (worker.stream !== undefined) {
        const { peer, credential } = callerOf(ctx);
        audit.log("warn", { worker: worker.name, workerId: worker.id, peer, credential }, `the dispatch stream of worker ${JSON.stringify(worker.name)} was taken over by a new stream of the same session from ${peer}; the old one is closed`);
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
      const proof: SecretProof = {};
      void (async () => {
        try {
          let items = 0;
          for await (const request of requests) {
            const count = reportItems(request);
            if (count > MAX_REPORT_ITEMS) {
              throw new ConnectError(`a report carries at most ${MAX_REPORT_ITEMS} items (got ${count}); send them in several reports (fw-worker does)`, Code.ResourceExhausted);
            }
            const worker = plane.reportingWorker(request.workerId, request.sessionSecret, proof);
            const response = plane.report(worker, request, Date.now());
            if (response.rejected.length > 0) auditRejections(audit, worker, response, callerOf(ctx));
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

/**
 * Results refused by fencing, one audit line per report. Late results after
 * a lost lease are ordinary (info); another session's attempt is worth a
 * warning (a confused or forging worker). Rate-limited: a worker that keeps
 * sending them cannot flood the log.
 */
function auditRejections(audit: AuditLog, worker: WorkerSession, response: ReportResultsResponse, caller: Caller): void {
  const codes = response.rejected.map((r) => r.status?.code ?? 0);
  const foreign = codes.includes(Code.PermissionDenied);
  const sample = response.rejected.slice(0, 3).map((r) => `${r.taskId}#${r.attempt}: ${r.status?.message ?? ""}`);
  audit.limited(
    "fencing-rejection",
    foreign ? "warn" : "info",
    { worker: worker.name, workerId: worker.id, peer: caller.peer, credential: caller.credential, rejected: response.rejected.length, sample },
    `fencing refused ${response.rejected.length} report item(s) from worker ${JSON.stringify(worker.name)}${foreign ? ", some for attempts of another worker" : ""}`,
  );
}
