import { create, type DescMessage } from "@bufbuild/protobuf";
import { AttemptOutcome, Priority, TaskState } from "../../gen/fastworker/v1/task_pb.js";
import { SessionRequestSchema, SessionResponseSchema } from "../../gen/fastworker/v1/task_service_pb.js";
import { DispatchResponseSchema, ReportResultsRequestSchema, ReportResultsResponseSchema } from "../../gen/fastworker/v1/worker_service_pb.js";

/** One benchmark case: a hot message as fastworker sends it, with `items` tasks in it. */
export interface Sample {
  name: string;
  schema: DescMessage;
  message: unknown;
}

// Shaped like the messages of `npm run bench`'s throughput scenario: ids as
// server/store/task-ids.ts makes them, args {"i":n}, results n, a trace
// context on a quarter of the tasks.
const id = (i: number): string => `k3f9x2a7${i.toString(36).padStart(9, "0")}`;
const traced = (i: number): Record<string, string> => (i % 4 === 0 ? { traceparent: `00-${"4bf92f3577b34da6a3ce929d0e0e4736"}-${"00f067aa0ba902b7"}-01` } : {});
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1000);
const now = 1_795_569_738_528.5;

function dispatch(n: number): unknown {
  return create(DispatchResponseSchema, {
    assignments: range(n).map((i) => ({
      taskId: id(i),
      attempt: 1,
      task: "noop",
      argsJson: `{"i":${i}}`,
      priority: Priority.NORMAL,
      maxAttempts: 3,
      metadata: traced(i),
      createdAtMs: now,
    })),
  });
}

function report(n: number): unknown {
  return create(ReportResultsRequestSchema, {
    workerId: "w-7f3a9c21e4b5d608",
    acks: range(n).map((i) => ({ taskId: id(i), attempt: 1 })),
    results: range(n).map((i) => ({ taskId: id(i), attempt: 1, outcome: AttemptOutcome.SUCCEEDED, resultJson: `${i}`, startedAtMs: now, finishedAtMs: now + 0.25 })),
    heartbeat: { ping: 42, capacity: 100, running: 37 },
  });
}

function session(n: number): unknown {
  return create(SessionRequestSchema, {
    submits: range(n).map((i) => ({ ref: i, task: { task: "noop", argsJson: `{"i":${i}}`, metadata: traced(i) }, follow: true })),
  });
}

function sessionResponse(n: number): unknown {
  return create(SessionResponseSchema, {
    accepted: range(n).map((i) => ({ ref: i, id: id(i) })),
    outcomes: range(n).map((i) => ({ id: id(i), state: TaskState.SUCCEEDED, resultJson: `${i}` })),
  });
}

/** The cases: each hot message with one task in it (latency) and with 64 (a busy batch). */
export const SAMPLES: Sample[] = [
  ...[1, 64].flatMap((n) => [
    { name: `DispatchResponse ×${n}`, schema: DispatchResponseSchema, message: dispatch(n) },
    { name: `ReportResultsRequest ×${n}`, schema: ReportResultsRequestSchema, message: report(n) },
    { name: `SessionRequest ×${n}`, schema: SessionRequestSchema, message: session(n) },
    { name: `SessionResponse ×${n}`, schema: SessionResponseSchema, message: sessionResponse(n) },
  ]),
  { name: "ReportResultsResponse", schema: ReportResultsResponseSchema, message: create(ReportResultsResponseSchema, { accepted: 128 }) },
];
