import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { WorkerState } from "../../gen/fastworker/v1/admin_service_pb.js";
import {
  DispatchResponseSchema,
  type Assignment,
  type CancelSignal,
  type DispatchResponse,
} from "../../gen/fastworker/v1/worker_service_pb.js";
import type { AsyncQueue } from "../../common/async-queue.js";
import { mapBytes, MAX_MESSAGE_BYTES, splitByBytes, type ByteBudget } from "../../common/split-by-bytes.js";
import { TaggedDeque } from "../store/deque.js";
import { RateWindow } from "./rate-window.js";
import type { LogValue } from "../store/state-log.js";
import type { AttemptRecord } from "../store/task-record.js";

/** What a worker said about itself when it registered. */
export interface WorkerIdentity {
  name: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  /** Task names it serves. */
  names: readonly string[];
}

const PING_HISTORY = 64;
/** An assignment on the wire: its args, name and metadata, and an allowance for ids and numbers. */
const ASSIGNMENT_BYTES: ByteBudget<Assignment> = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (a, text) => text(a.argsJson) + text(a.task) + mapBytes(a.metadata, text) + 128,
};

/**
 * The control plane's view of one registered worker: its dispatch stream,
 * the attempts it holds (credits), and the evidence that its dispatch stream
 * still delivers (pings it echoed).
 */
export class WorkerSession {
  state = WorkerState.DISCONNECTED;
  /** Attempts sent here and not reported back: each holds one credit. */
  readonly inflight = new Set<AttemptRecord>();
  /** Attempts sent and maybe not yet acknowledged, oldest first, tagged with the newest ping sent before them. */
  readonly unacked = new TaggedDeque<AttemptRecord>();
  /** How many attempts the worker takes at once now (its last heartbeat says). */
  capacity: number;
  draining = false;
  stream: AsyncQueue<DispatchResponse> | undefined = undefined;
  lastHeartbeatAt: number;
  /** Send time of the newest ping the worker echoed: the dispatch stream delivered until then. */
  provenAt: number;
  detachedAt = 0;
  succeededTotal = 0;
  failedTotal = 0;
  readonly finished = new RateWindow(10);
  private pingSeq = 0;
  private readonly pingSentAt = new Float64Array(PING_HISTORY);
  private assignments: Assignment[] = [];
  /** The attempts of `assignments`, same order. */
  private assigned: AttemptRecord[] = [];
  private cancels: CancelSignal[] = [];

  constructor(
    readonly id: string,
    readonly identity: WorkerIdentity,
    readonly connectedAt: number,
    /** SHA-256 of the session secret (session-secret.ts): Dispatch and ReportResults must present the secret. */
    readonly secretHash: Buffer,
  ) {
    this.capacity = identity.concurrency;
    this.lastHeartbeatAt = connectedAt;
    this.provenAt = connectedAt;
  }

  get name(): string {
    return this.identity.name;
  }

  get names(): readonly string[] {
    return this.identity.names;
  }

  /** Credits: how many more attempts may be sent now. */
  get free(): number {
    if (this.state !== WorkerState.ACTIVE || this.stream === undefined) return 0;
    return this.capacity - this.inflight.size;
  }

  /** The sequence number of the newest ping sent. */
  get lastPing(): number {
    return this.pingSeq;
  }

  /** Queues an assignment for the next {@link flush}. */
  assign(assignment: Assignment, attempt: AttemptRecord): void {
    this.assignments.push(assignment);
    this.assigned.push(attempt);
  }

  /** Queues a cancel signal for the next {@link flush}. */
  cancel(signal: CancelSignal): void {
    this.cancels.push(signal);
  }

  /** Sends what assign() and cancel() queued: one stream message, or several if it would be large. */
  flush(): void {
    const { assignments, assigned, cancels } = this;
    if (assignments.length === 0 && cancels.length === 0) return;
    this.assignments = [];
    this.assigned = [];
    this.cancels = [];
    const stream = this.stream;
    if (stream === undefined) return; // detached: detach() handed its attempts to `unacked` already
    for (const attempt of assigned) this.unacked.push(attempt, this.pingSeq);
    const chunks = splitByBytes(assignments, ASSIGNMENT_BYTES);
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) stream.push(create(DispatchResponseSchema, { assignments: chunks[i]! }));
    stream.push(create(DispatchResponseSchema, { assignments: chunks[last]!, cancels }));
  }

  /** Sends a ping down the dispatch stream; the worker echoes it in its next heartbeat. */
  ping(now: number): void {
    if (this.stream === undefined) return;
    const seq = ++this.pingSeq;
    this.pingSentAt[seq % PING_HISTORY] = now;
    this.stream.push(create(DispatchResponseSchema, { ping: seq }));
  }

  /** Records an echoed ping: the stream delivered everything sent before it. */
  echo(seq: number): void {
    if (seq <= 0 || seq > this.pingSeq || this.pingSeq - seq >= PING_HISTORY) return;
    const sentAt = this.pingSentAt[seq % PING_HISTORY]!;
    if (sentAt > this.provenAt) this.provenAt = sentAt;
  }

  /** Binds a new dispatch stream (replacing an older one). */
  attach(stream: AsyncQueue<DispatchResponse>): void {
    this.stream?.close();
    this.stream = stream;
    this.state = this.draining ? WorkerState.DRAINING : WorkerState.ACTIVE;
    this.detachedAt = 0;
    // Attaching proves nothing about delivery: only an echoed ping renews the lease.
  }

  /** Unbinds a dispatch stream that ended; a newer one stays. Returns true when it was the current one. */
  detach(stream: AsyncQueue<DispatchResponse>, now: number): boolean {
    if (this.stream !== stream) return false;
    this.stream = undefined;
    if (this.state !== WorkerState.LOST) this.state = WorkerState.DISCONNECTED;
    this.detachedAt = now;
    // Assignments not sent yet (waiting for their commit) never arrived: they count as unacknowledged.
    for (const attempt of this.assigned) this.unacked.push(attempt, this.pingSeq);
    this.assignments = [];
    this.assigned = [];
    this.cancels = [];
    return true;
  }

  /** Marks the worker draining (no new work) or active again. */
  setDraining(draining: boolean): void {
    this.draining = draining;
    if (this.stream !== undefined) this.state = draining ? WorkerState.DRAINING : WorkerState.ACTIVE;
  }

  /** Marks the worker lost and ends its stream with the reason (dropping what it did not read). */
  markLost(reason: string): void {
    this.state = WorkerState.LOST;
    this.stream?.fail(new ConnectError(`the control plane gave this worker up: ${reason}; register again`, Code.NotFound));
    this.stream = undefined;
  }
}

/**
 * The log value of a worker session: enough to recognise it after a
 * control-plane restart, and to check its secret (only the hash is kept).
 */
export function workerRecord(session: WorkerSession): LogValue {
  const i = session.identity;
  return {
    name: i.name,
    host: i.host,
    pid: i.pid,
    version: i.version,
    concurrency: i.concurrency,
    names: [...i.names],
    connectedAt: session.connectedAt,
    secretHash: session.secretHash.toString("base64"),
  };
}

/**
 * A worker session's identity, connection time and secret hash, read back
 * from the log. `secretHash` is undefined for a record written before
 * sessions had secrets: such a session cannot be checked, so it is not
 * restored (its worker registers again).
 */
export function workerFromRecord(value: LogValue): { identity: WorkerIdentity; connectedAt: number; secretHash: Buffer | undefined } {
  const r = value as unknown as WorkerIdentity & { connectedAt: number; secretHash?: string };
  const hash = typeof r.secretHash === "string" ? Buffer.from(r.secretHash, "base64") : undefined;
  return {
    identity: { name: r.name, host: r.host, pid: r.pid, version: r.version, concurrency: r.concurrency, names: r.names },
    connectedAt: r.connectedAt,
    secretHash: hash?.length === 32 ? hash : undefined,
  };
}
