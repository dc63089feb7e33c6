import { fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { ValueSchema, type Duration, type Value } from "@bufbuild/protobuf/wkt";
import type { ErrorStatus, RetryPolicy, TaskError } from "../../gen/fastworker/v1/task_pb.js";
import {
  SessionRequestSchema,
  SessionResponseSchema,
  type SessionAccepted,
  type SessionRequest,
  type SessionResponse,
  type SessionSubmit,
  type SubmitRequest,
  type TaskOutcome,
} from "../../gen/fastworker/v1/task_service_pb.js";
import {
  DispatchResponseSchema,
  ReportResultsRequestSchema,
  ReportResultsResponseSchema,
  type Assignment,
  type AttemptRef,
  type AttemptResult,
  type CancelSignal,
  type DispatchResponse,
  type Heartbeat,
  type ProgressUpdate,
  type RejectedItem,
  type ReportResultsRequest,
  type ReportResultsResponse,
} from "../../gen/fastworker/v1/worker_service_pb.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

/**
 * Hand-written codecs for the messages every task crosses (Session,
 * Dispatch, ReportResults, both directions). protobuf-es encodes through
 * reflection, which was about 40% of the control plane's and the worker's
 * CPU per task; these produce the same wire format with plain field tables.
 * Decoded objects have exactly the generated shapes ($typeName, defaults),
 * so the rest of the code cannot tell them apart. `codecs.spec.ts` checks
 * every message both ways against protobuf-es.
 */
export interface Codec<T> {
  encode(message: T): Buffer;
  decode(bytes: Buffer): T;
}

type Partialish<T> = { [K in keyof T]?: T[K] | undefined };

// ---- shared sub-messages -------------------------------------------------

function writeDuration(w: Writer, d: Partialish<Duration>): void {
  const seconds = d.seconds ?? 0n;
  if (seconds !== 0n) {
    w.tag(1, 0);
    w.int64(seconds);
  }
  w.int32Field(2, d.nanos ?? 0);
}

function readDuration(r: Reader, end: number): Duration {
  const d: Duration = { $typeName: "google.protobuf.Duration", seconds: 0n, nanos: 0 };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 8: d.seconds = BigInt(r.int64()); break;
      case 16: d.nanos = r.int32(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return d;
}

function writeErrorStatus(w: Writer, e: Partialish<ErrorStatus>): void {
  w.int32Field(1, e.code ?? 0);
  w.stringField(2, e.message ?? "");
}

function readErrorStatus(r: Reader, end: number): ErrorStatus {
  const e: ErrorStatus = { $typeName: "fastworker.v1.ErrorStatus", code: 0, message: "" };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 8: e.code = r.int32(); break;
      case 18: e.message = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return e;
}

function writeTaskError(w: Writer, e: Partialish<TaskError>): void {
  w.stringField(1, e.message ?? "");
  w.stringField(2, e.stack ?? "");
  w.stringField(3, e.type ?? "");
  w.boolField(4, e.retryable ?? false);
}

function readTaskError(r: Reader, end: number): TaskError {
  const e: TaskError = { $typeName: "fastworker.v1.TaskError", message: "", stack: "", type: "", retryable: false };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: e.message = r.string(); break;
      case 18: e.stack = r.string(); break;
      case 26: e.type = r.string(); break;
      case 32: e.retryable = r.uvarint() !== 0; break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return e;
}

function writeMetadata(w: Writer, field: number, metadata: Readonly<Record<string, string>> | undefined): void {
  if (metadata === undefined) return;
  for (const key in metadata) {
    const value = metadata[key]!;
    w.messageField(field, () => {
      w.stringField(1, key);
      w.stringField(2, value);
    });
  }
}

function readMapEntry(r: Reader, end: number, into: Record<string, string>): void {
  let key = "";
  let value = "";
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: key = r.string(); break;
      case 18: value = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  into[key] = value;
}

/** A field whose type is rare on the hot path (e.g. google.protobuf.Value): protobuf-es handles it. */
function writeViaProtobufEs<Desc extends DescMessage>(w: Writer, field: number, schema: Desc, message: Parameters<typeof toBinary<Desc>>[1]): void {
  const bytes = toBinary(schema, message);
  w.tag(field, 2);
  w.uvarint(bytes.length);
  w.raw(bytes);
}

// ---- Session -------------------------------------------------------------

function writeRetryPolicy(w: Writer, p: Partialish<RetryPolicy>): void {
  w.int32Field(1, p.maxAttempts ?? 0);
  if (p.initialBackoff) w.messageField(2, () => writeDuration(w, p.initialBackoff!));
  if (p.maxBackoff) w.messageField(3, () => writeDuration(w, p.maxBackoff!));
  w.doubleField(4, p.multiplier ?? 0);
}

function readRetryPolicy(r: Reader, end: number): RetryPolicy {
  const p: RetryPolicy = { $typeName: "fastworker.v1.RetryPolicy", maxAttempts: 0, initialBackoff: undefined, maxBackoff: undefined, multiplier: 0 };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 8: p.maxAttempts = r.int32(); break;
      case 18: p.initialBackoff = readDuration(r, r.delimited()); break;
      case 26: p.maxBackoff = readDuration(r, r.delimited()); break;
      case 33: p.multiplier = r.double(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return p;
}

function writeSubmitRequest(w: Writer, s: Partialish<SubmitRequest>): void {
  w.stringField(1, s.task ?? "");
  if (s.args !== undefined) writeViaProtobufEs(w, 2, ValueSchema, s.args);
  w.stringField(3, s.argsJson ?? "");
  w.int32Field(4, s.priority ?? 0);
  w.stringField(5, s.idempotencyKey ?? "");
  if (s.delay) w.messageField(6, () => writeDuration(w, s.delay!));
  if (s.retry) w.messageField(7, () => writeRetryPolicy(w, s.retry!));
  if (s.timeout) w.messageField(8, () => writeDuration(w, s.timeout!));
  writeMetadata(w, 9, s.metadata);
}

function readSubmitRequest(r: Reader, end: number): SubmitRequest {
  const s: SubmitRequest = {
    $typeName: "fastworker.v1.SubmitRequest",
    task: "", args: undefined, argsJson: "", priority: 0, idempotencyKey: "",
    delay: undefined, retry: undefined, timeout: undefined, metadata: {},
  };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: s.task = r.string(); break;
      case 18: s.args = fromBinary(ValueSchema, r.bytes()) as Value; break;
      case 26: s.argsJson = r.string(); break;
      case 32: s.priority = r.int32(); break;
      case 42: s.idempotencyKey = r.string(); break;
      case 50: s.delay = readDuration(r, r.delimited()); break;
      case 58: s.retry = readRetryPolicy(r, r.delimited()); break;
      case 66: s.timeout = readDuration(r, r.delimited()); break;
      case 74: readMapEntry(r, r.delimited(), s.metadata); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return s;
}

function readSessionSubmit(r: Reader, end: number): SessionSubmit {
  const s: SessionSubmit = { $typeName: "fastworker.v1.SessionSubmit", ref: 0, task: undefined, follow: false };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 8: s.ref = r.uint32(); break;
      case 18: s.task = readSubmitRequest(r, r.delimited()); break;
      case 24: s.follow = r.uvarint() !== 0; break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return s;
}

const sessionRequest: Codec<SessionRequest> = {
  encode(m) {
    const w = new Writer(512);
    for (const s of m.submits) {
      w.messageField(1, () => {
        w.uvarintField(1, s.ref);
        if (s.task) w.messageField(2, () => writeSubmitRequest(w, s.task!));
        w.boolField(3, s.follow);
      });
    }
    for (const id of m.follow) {
      w.tag(2, 2);
      w.string(id);
    }
    return w.finish();
  },
  decode(bytes) {
    const r = new Reader(bytes);
    const m: SessionRequest = { $typeName: "fastworker.v1.SessionRequest", submits: [], follow: [] };
    while (!r.done) {
      const tag = r.uvarint();
      switch (tag) {
        case 10: m.submits.push(readSessionSubmit(r, r.delimited())); break;
        case 18: m.follow.push(r.string()); break;
        default: r.skip(tag & 7);
      }
    }
    return m;
  },
};

function writeTaskOutcome(w: Writer, o: Partialish<TaskOutcome>): void {
  w.stringField(1, o.id ?? "");
  w.int32Field(2, o.state ?? 0);
  w.stringField(3, o.resultJson ?? "");
  if (o.error) w.messageField(4, () => writeTaskError(w, o.error!));
  if (o.lookupError) w.messageField(5, () => writeErrorStatus(w, o.lookupError!));
}

function readTaskOutcome(r: Reader, end: number): TaskOutcome {
  const o: TaskOutcome = { $typeName: "fastworker.v1.TaskOutcome", id: "", state: 0, resultJson: "", error: undefined, lookupError: undefined };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: o.id = r.string(); break;
      case 16: o.state = r.int32(); break;
      case 26: o.resultJson = r.string(); break;
      case 34: o.error = readTaskError(r, r.delimited()); break;
      case 42: o.lookupError = readErrorStatus(r, r.delimited()); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return o;
}

function readSessionAccepted(r: Reader, end: number): SessionAccepted {
  const a: SessionAccepted = { $typeName: "fastworker.v1.SessionAccepted", ref: 0, id: "", deduplicated: false, error: undefined };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 8: a.ref = r.uint32(); break;
      case 18: a.id = r.string(); break;
      case 24: a.deduplicated = r.uvarint() !== 0; break;
      case 34: a.error = readErrorStatus(r, r.delimited()); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return a;
}

const sessionResponse: Codec<SessionResponse> = {
  encode(m) {
    const w = new Writer(512);
    for (const a of m.accepted) {
      w.messageField(1, () => {
        w.uvarintField(1, a.ref);
        w.stringField(2, a.id);
        w.boolField(3, a.deduplicated);
        if (a.error) w.messageField(4, () => writeErrorStatus(w, a.error!));
      });
    }
    for (const o of m.outcomes) w.messageField(2, () => writeTaskOutcome(w, o));
    return w.finish();
  },
  decode(bytes) {
    const r = new Reader(bytes);
    const m: SessionResponse = { $typeName: "fastworker.v1.SessionResponse", accepted: [], outcomes: [] };
    while (!r.done) {
      const tag = r.uvarint();
      switch (tag) {
        case 10: m.accepted.push(readSessionAccepted(r, r.delimited())); break;
        case 18: m.outcomes.push(readTaskOutcome(r, r.delimited())); break;
        default: r.skip(tag & 7);
      }
    }
    return m;
  },
};

// ---- Dispatch ------------------------------------------------------------

function writeAssignment(w: Writer, a: Partialish<Assignment>): void {
  w.stringField(1, a.taskId ?? "");
  w.int32Field(2, a.attempt ?? 0);
  w.stringField(3, a.task ?? "");
  w.stringField(4, a.argsJson ?? "");
  w.int32Field(5, a.priority ?? 0);
  w.doubleField(6, a.timeoutSeconds ?? 0);
  w.int32Field(7, a.maxAttempts ?? 0);
  writeMetadata(w, 8, a.metadata);
  w.doubleField(9, a.createdAtMs ?? 0);
}

function readAssignment(r: Reader, end: number): Assignment {
  const a: Assignment = {
    $typeName: "fastworker.v1.Assignment",
    taskId: "", attempt: 0, task: "", argsJson: "", priority: 0, timeoutSeconds: 0, maxAttempts: 0, metadata: {}, createdAtMs: 0,
  };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: a.taskId = r.string(); break;
      case 16: a.attempt = r.int32(); break;
      case 26: a.task = r.string(); break;
      case 34: a.argsJson = r.string(); break;
      case 40: a.priority = r.int32(); break;
      case 49: a.timeoutSeconds = r.double(); break;
      case 56: a.maxAttempts = r.int32(); break;
      case 66: readMapEntry(r, r.delimited(), a.metadata); break;
      case 73: a.createdAtMs = r.double(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return a;
}

function readCancelSignal(r: Reader, end: number): CancelSignal {
  const c: CancelSignal = { $typeName: "fastworker.v1.CancelSignal", taskId: "", attempt: 0, reason: "" };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: c.taskId = r.string(); break;
      case 16: c.attempt = r.int32(); break;
      case 26: c.reason = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return c;
}

const dispatchResponse: Codec<DispatchResponse> = {
  encode(m) {
    const w = new Writer(1024);
    for (const a of m.assignments) w.messageField(1, () => writeAssignment(w, a));
    for (const c of m.cancels) {
      w.messageField(2, () => {
        w.stringField(1, c.taskId);
        w.int32Field(2, c.attempt);
        w.stringField(3, c.reason);
      });
    }
    w.uvarintField(3, m.ping);
    return w.finish();
  },
  decode(bytes) {
    const r = new Reader(bytes);
    const m: DispatchResponse = { $typeName: "fastworker.v1.DispatchResponse", assignments: [], cancels: [], ping: 0 };
    while (!r.done) {
      const tag = r.uvarint();
      switch (tag) {
        case 10: m.assignments.push(readAssignment(r, r.delimited())); break;
        case 18: m.cancels.push(readCancelSignal(r, r.delimited())); break;
        case 24: m.ping = r.uint32(); break;
        default: r.skip(tag & 7);
      }
    }
    return m;
  },
};

// ---- ReportResults -------------------------------------------------------

function writeAttemptRef(w: Writer, field: number, a: Partialish<AttemptRef>): void {
  w.messageField(field, () => {
    w.stringField(1, a.taskId ?? "");
    w.int32Field(2, a.attempt ?? 0);
  });
}

function readAttemptRef(r: Reader, end: number): AttemptRef {
  const a: AttemptRef = { $typeName: "fastworker.v1.AttemptRef", taskId: "", attempt: 0 };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: a.taskId = r.string(); break;
      case 16: a.attempt = r.int32(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return a;
}

function writeAttemptResult(w: Writer, a: Partialish<AttemptResult>): void {
  w.stringField(1, a.taskId ?? "");
  w.int32Field(2, a.attempt ?? 0);
  w.int32Field(3, a.outcome ?? 0);
  w.stringField(4, a.resultJson ?? "");
  if (a.error) w.messageField(5, () => writeTaskError(w, a.error!));
  w.doubleField(6, a.startedAtMs ?? 0);
  w.doubleField(7, a.finishedAtMs ?? 0);
}

function readAttemptResult(r: Reader, end: number): AttemptResult {
  const a: AttemptResult = {
    $typeName: "fastworker.v1.AttemptResult",
    taskId: "", attempt: 0, outcome: 0, resultJson: "", error: undefined, startedAtMs: 0, finishedAtMs: 0,
  };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: a.taskId = r.string(); break;
      case 16: a.attempt = r.int32(); break;
      case 24: a.outcome = r.int32(); break;
      case 34: a.resultJson = r.string(); break;
      case 42: a.error = readTaskError(r, r.delimited()); break;
      case 49: a.startedAtMs = r.double(); break;
      case 57: a.finishedAtMs = r.double(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return a;
}

function readProgressUpdate(r: Reader, end: number): ProgressUpdate {
  const p: ProgressUpdate = { $typeName: "fastworker.v1.ProgressUpdate", taskId: "", attempt: 0, fraction: 0, message: "" };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: p.taskId = r.string(); break;
      case 16: p.attempt = r.int32(); break;
      case 25: p.fraction = r.double(); break;
      case 34: p.message = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return p;
}

function readHeartbeat(r: Reader, end: number): Heartbeat {
  const h: Heartbeat = { $typeName: "fastworker.v1.Heartbeat", ping: 0, capacity: 0, running: 0, draining: false };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 8: h.ping = r.uint32(); break;
      case 16: h.capacity = r.int32(); break;
      case 24: h.running = r.int32(); break;
      case 32: h.draining = r.uvarint() !== 0; break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return h;
}

const reportResultsRequest: Codec<ReportResultsRequest> = {
  encode(m) {
    const w = new Writer(512);
    w.stringField(1, m.workerId);
    for (const a of m.acks) writeAttemptRef(w, 2, a);
    for (const a of m.results) w.messageField(3, () => writeAttemptResult(w, a));
    for (const p of m.progress) {
      w.messageField(4, () => {
        w.stringField(1, p.taskId);
        w.int32Field(2, p.attempt);
        w.doubleField(3, p.fraction);
        w.stringField(4, p.message);
      });
    }
    for (const a of m.released) writeAttemptRef(w, 5, a);
    const h = m.heartbeat;
    if (h) {
      w.messageField(6, () => {
        w.uvarintField(1, h.ping);
        w.int32Field(2, h.capacity);
        w.int32Field(3, h.running);
        w.boolField(4, h.draining);
      });
    }
    return w.finish();
  },
  decode(bytes) {
    const r = new Reader(bytes);
    const m: ReportResultsRequest = {
      $typeName: "fastworker.v1.ReportResultsRequest",
      workerId: "", acks: [], results: [], progress: [], released: [], heartbeat: undefined,
    };
    while (!r.done) {
      const tag = r.uvarint();
      switch (tag) {
        case 10: m.workerId = r.string(); break;
        case 18: m.acks.push(readAttemptRef(r, r.delimited())); break;
        case 26: m.results.push(readAttemptResult(r, r.delimited())); break;
        case 34: m.progress.push(readProgressUpdate(r, r.delimited())); break;
        case 42: m.released.push(readAttemptRef(r, r.delimited())); break;
        case 50: m.heartbeat = readHeartbeat(r, r.delimited()); break;
        default: r.skip(tag & 7);
      }
    }
    return m;
  },
};

function readRejectedItem(r: Reader, end: number): RejectedItem {
  const x: RejectedItem = { $typeName: "fastworker.v1.RejectedItem", taskId: "", attempt: 0, status: undefined };
  while (r.pos < end) {
    const tag = r.uvarint();
    switch (tag) {
      case 10: x.taskId = r.string(); break;
      case 16: x.attempt = r.int32(); break;
      case 26: x.status = readErrorStatus(r, r.delimited()); break;
      default: r.skip(tag & 7);
    }
  }
  r.check(end);
  return x;
}

const reportResultsResponse: Codec<ReportResultsResponse> = {
  encode(m) {
    const w = new Writer(64);
    w.int32Field(1, m.accepted);
    for (const x of m.rejected) {
      w.messageField(2, () => {
        w.stringField(1, x.taskId);
        w.int32Field(2, x.attempt);
        if (x.status) w.messageField(3, () => writeErrorStatus(w, x.status!));
      });
    }
    return w.finish();
  },
  decode(bytes) {
    const r = new Reader(bytes);
    const m: ReportResultsResponse = { $typeName: "fastworker.v1.ReportResultsResponse", accepted: 0, rejected: [] };
    while (!r.done) {
      const tag = r.uvarint();
      switch (tag) {
        case 8: m.accepted = r.int32(); break;
        case 18: m.rejected.push(readRejectedItem(r, r.delimited())); break;
        default: r.skip(tag & 7);
      }
    }
    return m;
  },
};

/** The hand-written codecs, by message type name. */
export const HOT_CODECS: ReadonlyMap<string, Codec<unknown>> = new Map<string, Codec<unknown>>([
  [SessionRequestSchema.typeName, sessionRequest as Codec<unknown>],
  [SessionResponseSchema.typeName, sessionResponse as Codec<unknown>],
  [DispatchResponseSchema.typeName, dispatchResponse as Codec<unknown>],
  [ReportResultsRequestSchema.typeName, reportResultsRequest as Codec<unknown>],
  [ReportResultsResponseSchema.typeName, reportResultsResponse as Codec<unknown>],
]);
