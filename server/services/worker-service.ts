import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { WorkerService, type DispatchResponse, type ReportResultsResponse } from "../../gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../common/async-queue.js";
import { durationFromMs } from "../../common/time.js";
import { VERSION } from "../../common/version.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { validateDefinition } from "../engine/validate.js";
import { validateDeclarations } from "../engine/declarations.js";
import type { AuditLog } from "../telemetry/audit-log.js";
import type { WorkerSession } from "../engine/worker-session.js";
import { callerOf, type Caller } from "../transport/call-context.js";

const MAX_CONCURRENCY = 100_000;

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
      for (const definition of request.tasks) {
        validateDefinition(definition);
        validateDeclarations(definition, plane.config.maxPayloadBytes); // schedules and flow limits
      }
      const names = [...new Set(request.tasks.map((t) => t.name))];
      const name = request.name || `worker-${request.pid}`;
      const namesakes = [...plane.workers.live()].filter((w) => w.name === name).map((w) => w.id);
      let registration;
      try {
        registration = plane.register(
          { name, host: request.host, pid: request.pid, version: request.version, concurrency: request.concurrency, names },
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
      if (worker.stream !== undefined) {
        const { peer, credential } = callerOf(ctx);
        audit.log("warn", { worker: worker.name, workerId: worker.id, peer, credential }, `the dispatch stream of worker ${JSON.stringify(worker.name)} was taken over by a new stream of the same session from ${peer}; the old one is closed`);
      }
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
            const worker = plane.reportingWorker(request.workerId, request.sessionSecret);
            const response = plane.report(worker, request, Date.now());
            if (response.rejected.length > 0) auditRejections(audit, worker, response, callerOf(ctx));
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
