import { Code, ConnectError } from "@connectrpc/connect";
import { setTimeout as sleep } from "node:timers/promises";
import {
  WorkerService,
  type AttemptRef,
  type DispatchResponse,
  type ReportResultsRequest,
  type ReportResultsResponse,
} from "../gen/fastworker/v1/worker_service_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RegisterWorkerRequestSchema } from "../gen/fastworker/v1/worker_service_pb.js";
import { GrpcConnection, type ServiceClient, type TlsClientOptions } from "../common/transport/grpc-client.js";
import { backoffMs } from "../common/backoff.js";
import type { Logger } from "../common/logger.js";
import { durationToMs } from "../common/time.js";
import { ReportStream } from "./report-stream.js";
import { leaderFromMessage } from "../common/discovery/leader-hint.js";
import type { ServerLocator } from "../common/discovery/server-locator.js";

/** Options for {@link WorkerConnection}. */
export interface WorkerConnectionOptions {
  /** Where the control plane is; asked again before every (re)connect. */
  server: ServerLocator;
  token?: string | undefined;
  /** Certificates for a control plane serving TLS (grpcs:// addresses). */
  tls?: TlsClientOptions | undefined;
  registration: MessageInitShape<typeof RegisterWorkerRequestSchema>;
  /** Called for every message on the dispatch stream, with the session it came under. */
  onMessage(message: DispatchResponse, session: string): void;
  /** Called each time a dispatch stream is up (its first message arrived). */
  onAttached(session: string): void;
  /** Slots free now, sent when (re)attaching: tasks of an earlier session may still hold some. */
  capacity(): number;
  /** The attempts of a session this worker still holds (running or not yet reported), sent when (re)attaching. */
  held(session: string): AttemptRef[];
  logger: Logger;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A worker's link to the control plane: registers, keeps one dispatch stream
 * open, and when it breaks (control plane restarted, network, a stream that
 * went silent) reconnects with exponential backoff and jitter, registering
 * again if the control plane no longer knows this worker. The address is
 * resolved before each attempt, so a worker that found its control plane by
 * beacon follows it to wherever it announces itself next.
 */
export class WorkerConnection {
  /** The current worker session id, once registered. */
  session: string | undefined;
  /** The newest ping seen on the dispatch stream (echoed in heartbeats). */
  lastPing = 0;
  attached = false;
  /** The largest result the control plane keeps (from registration). */
  maxPayloadBytes = Number.POSITIVE_INFINITY;
  private grpc: GrpcConnection | undefined;
  private client: ServiceClient<typeof WorkerService> | undefined;
  private leaseTimeoutMs = 10_000;
  private readonly reports = new Map<string, ReportStream>();
  /** Each session's secret (from its registration): Dispatch and ReportResults present it. */
  private readonly secrets = new Map<string, string>();
  private streamAbort: AbortController | undefined;

  constructor(private readonly options: WorkerConnectionOptions) {}

  /** The control plane's address dialled last ("" before the first is known). */
  get address(): string {
    return this.grpc?.address ?? "";
  }

  /** Sends a report for a session on that session's report stream (opened on demand; used by the reporter). */
  report(session: string, request: Omit<ReportResultsRequest, "$typeName" | "workerId" | "sessionSecret">): Promise<ReportResultsResponse> {
    if (this.client === undefined) return Promise.reject(new ConnectError("not connected to a control plane yet", Code.Unavailable));
    let stream = this.reports.get(session);
    if (stream === undefined || !stream.usable) {
      stream = new ReportStream(this.client, session, this.secrets.get(session) ?? "", this.leaseTimeoutMs);
      this.reports.set(session, stream);
    }
    return stream.send(request);
  }

  /** Forgets a session the control plane no longer knows, so the next connect registers again. */
  forget(session: string): void {
    this.reports.get(session)?.close();
    this.reports.delete(session);
    this.secrets.delete(session);
    if (this.session !== session) return;
    this.session = undefined;
    this.streamAbort?.abort();
  }

  /**
   * Runs until `stop` aborts: connect, stream, reconnect. Rejects only when
   * the control plane cannot be located (a discovery timeout).
   */
  async run(stop: AbortSignal): Promise<void> {
    const backoff = { initialBackoffMs: this.options.initialBackoffMs ?? 100, maxBackoffMs: this.options.maxBackoffMs ?? 5000 };
    let failures = 0;
    while (!stop.aborted) {
      try {
        await this.dial(stop);
      } catch (err) {
        if (stop.aborted) break;
        throw err;
      }
      try {
        if (this.session === undefined) await this.register();
        await this.stream(stop, () => {
          // The stream delivered: the connection works again.
          failures = 0;
        });
      } catch (err) {
        if (stop.aborted) break;
        const e = ConnectError.from(err);
        if (e.code === Code.NotFound) this.session = undefined;
        // Unreachable, or a standby of a group: try the next address (or the leader it names).
        if (e.code === Code.Unavailable) this.options.server.failed?.(this.address, leaderFromMessage(e.rawMessage));
        failures++;
        if (e.code === Code.Unauthenticated) {
          this.options.logger.error(`the control plane at ${this.address} refused the token: ${e.rawMessage}`);
        } else if (e.code === Code.PermissionDenied || (e.code === Code.FailedPrecondition && (failures === 1 || failures % 10 === 0))) {
          // A token without the worker scope, or task definitions that conflict with connected workers': say why loudly.
          this.options.logger.error(`the control plane at ${this.address} refused this worker: ${e.rawMessage}`);
        }
        const wait = backoffMs(backoff, failures);
        const what = this.session === undefined ? "cannot reach the control plane" : "lost the dispatch stream";
        const log = failures === 1 || failures % 10 === 0 ? "warn" : "debug";
        this.options.logger[log](`${what} at ${this.address} (${e.rawMessage}); retrying in ${(wait / 1000).toFixed(1)}s (attempt ${failures})`);
        try {
          await sleep(wait, undefined, { signal: stop });
        } catch {
          break; // stopped while waiting
        }
      }
    }
    this.attached = false;
  }

  /** Closes the connection and the locator (after run() ended). */
  async close(): Promise<void> {
    this.closeReports();
    this.grpc?.close();
    await this.options.server.close();
  }

  /** Resolves the address; opens a new channel when it changed (the session is kept: NOT_FOUND makes it register again). */
  private async dial(stop: AbortSignal): Promise<void> {
    const address = await this.options.server.resolve(stop);
    if (this.grpc?.address === address) return;
    this.closeReports();
    this.grpc?.close();
    this.grpc = new GrpcConnection({ address, token: this.options.token, tls: this.options.tls });
    this.client = this.grpc.service(WorkerService);
  }

  /** Closes the report stream of one session (it has nothing left to report), or of all. */
  closeReports(session?: string): void {
    for (const [id, stream] of this.reports) {
      if (session !== undefined && id !== session) continue;
      stream.close();
      this.reports.delete(id);
      // An earlier session with nothing left to report is over: its secret is no longer needed.
      if (session !== undefined && id !== this.session) this.secrets.delete(id);
    }
  }

  private async register(): Promise<void> {
    const response = await this.client!.registerWorker(this.options.registration, { timeoutMs: 10_000 });
    this.session = response.workerId;
    this.secrets.set(response.workerId, response.sessionSecret);
    this.leaseTimeoutMs = durationToMs(response.leaseTimeout) || this.leaseTimeoutMs;
    this.maxPayloadBytes = Number(response.maxPayloadBytes) || Number.POSITIVE_INFINITY;
    this.lastPing = 0;
    this.options.logger.info(
      { workerId: response.workerId, server: this.address, serverVersion: response.serverVersion },
      `registered with the control plane at ${this.address}`,
    );
  }

  /** One dispatch stream, until it ends or goes silent for a lease timeout. */
  private async stream(stop: AbortSignal, onUp: () => void): Promise<void> {
    const session = this.session!;
    const abort = new AbortController();
    this.streamAbort = abort;
    const onStop = (): void => abort.abort();
    stop.addEventListener("abort", onStop);
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        this.options.logger.warn(`no message on the dispatch stream for ${this.leaseTimeoutMs / 1000}s; reconnecting`);
        abort.abort();
      }, this.leaseTimeoutMs);
      watchdog.unref();
    };
    try {
      arm();
      const capacity = this.options.capacity();
      // Pings are numbered per control-plane process: a restarted one counts from 1 again.
      this.lastPing = 0;
      const held = { attempts: this.options.held(session) };
      const messages = this.client!.dispatch({ workerId: session, sessionSecret: this.secrets.get(session) ?? "", capacity, held }, { signal: abort.signal });
      for await (const message of messages) {
        arm();
        if (message.ping > this.lastPing) this.lastPing = message.ping;
        if (!this.attached) {
          // The control plane's first message (a ping) says the stream is accepted.
          this.attached = true;
          onUp();
          this.options.onAttached(session);
        }
        this.options.onMessage(message, session);
      }
      if (!stop.aborted) throw new ConnectError("the control plane ended the dispatch stream", Code.Unavailable);
    } catch (err) {
      if (abort.signal.aborted && !stop.aborted) throw new ConnectError("dispatch stream reset", Code.Unavailable);
      throw err;
    } finally {
      this.attached = false;
      clearTimeout(watchdog);
      stop.removeEventListener("abort", onStop);
      if (this.streamAbort === abort) this.streamAbort = undefined;
    }
  }
}
