import { create, toBinary } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { GrpcConnection } from "../../common/transport/grpc-client.js";
import { MAX_REPORT_ITEMS, MAX_SESSION_FOLLOWS, MAX_SESSION_SUBMITS } from "../../common/stream-limits.js";
import { AdminService } from "../../gen/fastworker/v1/admin_service_pb.js";
import { TaskView } from "../../gen/fastworker/v1/task_pb.js";
import { SessionRequestSchema, SubmitRequestSchema, TaskService } from "../../gen/fastworker/v1/task_service_pb.js";
import { AttemptOutcome } from "../../gen/fastworker/v1/task_pb.js";
import { call, encoded } from "./grpc-surface.js";
import { RawWorker } from "./raw-worker.js";
import type { Tally } from "./tally.js";

const SURFACE = "oversize and deep";
const MiB = 1024 * 1024;

/** A Value nested `depth` lists deep, built bottom-up. */
function deepValue(depth: number): Value {
  let value = create(ValueSchema, { kind: { case: "numberValue", value: 1 } });
  for (let i = 0; i < depth; i++) value = create(ValueSchema, { kind: { case: "listValue", value: { values: [value] } } });
  return value;
}

/**
 * Payloads past every limit, each with the one status it must get: over the
 * transport's receive limit, over --max-payload, nested too deep (as text,
 * as a protobuf Value, as Connect JSON), numbers that read as Infinity, too
 * many items in one message of each stream, huge worker-supplied text (kept,
 * cut with a marker), and a FULL listing of large tasks (cut by bytes).
 */
export async function oversize(grpcAddress: string, httpUrl: string, tally: Tally): Promise<void> {
  const client = new grpc.Client(grpcAddress, grpc.credentials.createInsecure(), { "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": -1 });
  const expect = async (what: string, status: Promise<string>, allowed: string[]): Promise<void> => {
    const got = await status;
    tally.record(SURFACE, got, !allowed.includes(got), () => what);
  };
  const submit = { path: "/fastworker.v1.TaskService/Submit", kind: "unary" };
  const submitBytes = (init: Parameters<typeof create<typeof SubmitRequestSchema>>[1]): Buffer => Buffer.from(toBinary(SubmitRequestSchema, create(SubmitRequestSchema, init)));
  try {
    await expect("Submit, 20 MiB args (past the receive limit)", call(client, submit, [submitBytes({ task: "add", argsJson: JSON.stringify("x".repeat(20 * MiB)) })]), ["RESOURCE_EXHAUSTED"]);
    await expect("Submit, 1.5 MiB args (past --max-payload)", call(client, submit, [submitBytes({ task: "add", argsJson: JSON.stringify("x".repeat(1.5 * MiB)) })]), ["RESOURCE_EXHAUSTED"]);
    await expect("Submit, args_json 100,000 deep", call(client, submit, [submitBytes({ task: "add", argsJson: "[".repeat(100_000) + "]".repeat(100_000) })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, args 33 deep (one past the limit)", call(client, submit, [submitBytes({ task: "add", argsJson: "[".repeat(33) + "]".repeat(33) })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, a protobuf Value 40 deep", call(client, submit, [submitBytes({ task: "add", args: deepValue(40) })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, a protobuf Value 300 deep (past the decoder's recursion limit)", call(client, submit, [submitBytes({ task: "add", args: deepValue(300) })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, args [1e999]", call(client, submit, [submitBytes({ task: "add", argsJson: "[1e999]" })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, 10,000 metadata entries", call(client, submit, [submitBytes({ task: "add", metadata: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, "v"])) })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, a 1 MiB idempotency key", call(client, submit, [submitBytes({ task: "add", idempotencyKey: "k".repeat(MiB) })]), ["INVALID_ARGUMENT"]);
    await expect("Submit, a 1 MiB task name", call(client, submit, [submitBytes({ task: "n".repeat(MiB) })]), ["INVALID_ARGUMENT"]);
    await expect("SubmitBatch, 10,001 tasks", call(client, { path: "/fastworker.v1.TaskService/SubmitBatch", kind: "unary" }, [encoded(TaskService.method.submitBatch, { tasks: Array.from({ length: 10_001 }, () => ({ task: "add" })) })]), ["INVALID_ARGUMENT"]);
    const session = { path: "/fastworker.v1.TaskService/Session", kind: "bidi_streaming" };
    await expect(`Session, ${MAX_SESSION_SUBMITS + 1} submissions in one message`, call(client, session, [Buffer.from(toBinary(SessionRequestSchema, create(SessionRequestSchema, { submits: Array.from({ length: MAX_SESSION_SUBMITS + 1 }, (_, i) => ({ ref: i, task: { task: "nobody-serves-this" } })) })))]), ["RESOURCE_EXHAUSTED"]);
    await expect(`Session, ${MAX_SESSION_FOLLOWS + 1} follows in one message`, call(client, session, [Buffer.from(toBinary(SessionRequestSchema, create(SessionRequestSchema, { follow: Array.from({ length: MAX_SESSION_FOLLOWS + 1 }, (_, i) => `id-${i}`) })))]), ["RESOURCE_EXHAUSTED"]);
    await expect("Connect Submit, a 20 MiB JSON body", connectStatus(httpUrl, "/fastworker.v1.TaskService/Submit", JSON.stringify({ task: "add", argsJson: "x".repeat(20 * MiB) })), ["resource_exhausted"]);
    await expect("Connect Submit, args 20,000 deep", connectStatus(httpUrl, "/fastworker.v1.TaskService/Submit", `{"task":"add","args":${"[".repeat(20_000)}${"]".repeat(20_000)}}`), ["invalid_argument"]);
    await expect("Connect Submit, args 40 deep", connectStatus(httpUrl, "/fastworker.v1.TaskService/Submit", `{"task":"add","args":${"[".repeat(40)}${"]".repeat(40)}}`), ["invalid_argument"]);
    await expect("Connect Submit, args_json 1e999", connectStatus(httpUrl, "/fastworker.v1.TaskService/Submit", JSON.stringify({ task: "add", argsJson: "1e999" })), ["invalid_argument"]);
    await workerText(grpcAddress, tally);
    await fullListing(grpcAddress, tally);
  } finally {
    client.close();
  }

  async function workerText(address: string, t: Tally): Promise<void> {
    const worker = new RawWorker(address);
    const name = `oversize-${process.pid}`;
    try {
      await worker.register("w".repeat(MiB), [name], { host: "h".repeat(MiB), version: "v".repeat(MiB) });
      const dispatch = worker.dispatch();
      const connection = new GrpcConnection({ address });
      try {
        const listed = (await connection.service(AdminService).listWorkers({})).workers.find((w) => w.id === worker.workerId);
        const cut = listed !== undefined && listed.name.length < 300 && /…\[truncated \d+ bytes\]$/.test(listed.name) && listed.host.length < 300;
        t.record(SURFACE, cut ? "OK (cut with a marker)" : "NOT CUT", !cut, () => "RegisterWorker with a 1 MiB name, host and version");
        const items = await worker.report({ acks: Array.from({ length: MAX_REPORT_ITEMS + 1 }, (_, i) => ({ taskId: `t${i}`, attempt: 1 })) }).then(
          () => "OK",
          (err: { code?: number }) => grpc.status[err.code ?? 2] ?? String(err.code),
        );
        t.record(SURFACE, items, items !== "RESOURCE_EXHAUSTED", () => `ReportResults with ${MAX_REPORT_ITEMS + 1} acks`);
        // A result whose error is 4 MiB of message and stack: kept, cut.
        const tasks = connection.service(TaskService);
        const { id } = await tasks.submit({ task: name, argsJson: "{}" });
        let assignment;
        while (assignment === undefined) {
          const { value, done } = await dispatch.next();
          if (done) break;
          assignment = value.assignments[0];
        }
        const fresh = new RawWorker(address); // the first one's report stream was ended by the refusal above
        fresh.workerId = worker.workerId;
        fresh.sessionSecret = worker.sessionSecret;
        await fresh.report({ results: [{ taskId: id, attempt: assignment!.attempt, outcome: AttemptOutcome.FAILED, error: { message: "m".repeat(2 * MiB), stack: "s".repeat(2 * MiB), type: "T", retryable: false } }] });
        fresh.close();
        const { task } = await tasks.getTask({ id });
        const kept = task?.error?.message.length ?? 0;
        const ok = kept > 0 && kept < 16 * 1024 && /…\[truncated \d+ bytes\]$/.test(task!.error!.message);
        t.record(SURFACE, ok ? "OK (cut with a marker)" : `NOT CUT (${kept})`, !ok, () => "a result with a 2 MiB error message and stack");
      } finally {
        connection.close();
      }
    } finally {
      worker.close();
    }
  }

  async function fullListing(address: string, t: Tally): Promise<void> {
    const connection = new GrpcConnection({ address });
    try {
      const tasks = connection.service(TaskService);
      const name = `listing-${process.pid}`;
      for (let i = 0; i < 12; i++) await tasks.submit({ task: name, argsJson: JSON.stringify("y".repeat(900 * 1024)) });
      const page = await tasks.listTasks({ task: name, view: TaskView.FULL, pageSize: 1000 });
      const ok = page.tasks.length > 0 && page.tasks.length < 12 && page.nextPageToken !== "";
      t.record(SURFACE, ok ? `OK (${page.tasks.length} of 12 on the first FULL page)` : `NOT CUT (${page.tasks.length})`, !ok, () => "ListTasks FULL of 12 tasks with 900 KiB args");
      for (const task of page.tasks) await tasks.cancelTask({ id: task.id });
    } finally {
      connection.close();
    }
  }
}

async function connectStatus(base: string, path: string, body: string): Promise<string> {
  const response = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  if (response === undefined) return "network error";
  if (response.ok) {
    await response.body?.cancel();
    return "ok";
  }
  const text = await response.text();
  try {
    return (JSON.parse(text) as { code: string }).code;
  } catch {
    return `http ${response.status}`;
  }
}
