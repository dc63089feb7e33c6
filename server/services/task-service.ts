import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ErrorStatusSchema, LogLineSchema, TaskView } from "../../gen/fastworker/v1/task_pb.js";
import {
  SubmitBatchResultSchema,
  SubmitResponseSchema,
  TaskService,
  type BulkSelection,
} from "../../gen/fastworker/v1/task_service_pb.js";
import { countByBytes, mapBytes, MAX_MESSAGE_BYTES, type ByteBudget, type TextBytes } from "../../common/split-by-bytes.js";
import { isFinalState } from "../../common/task-state.js";
import { durationToMs, timestampFromMs } from "../../common/time.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { taskMessage } from "../engine/task-view.js";
import type { TaskErrorData, TaskRecord } from "../store/task-record.js";
import { SessionStream } from "./session.js";
import { validateSubmit, validateTaskId } from "../engine/validate.js";
import { filterFromMessage, orderFromMessage } from "../engine/task-filter-input.js";
import { cursorAfter, decodeCursor, encodeCursor } from "../store/listing.js";
import { cancelMany, MAX_BULK_IDS, retryMany, type BulkSelectionInput } from "../engine/bulk-actions.js";

/** The longest a single WaitTask call waits before answering with the current state. */
export const MAX_WAIT_MS = 30_000;
/** The most tasks one SubmitBatch may carry. */
export const MAX_BATCH = 10_000;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

/** A task in the FULL view: its args, result and error texts, each attempt's error, and an allowance for the rest. */
const FULL_TASK_BYTES: ByteBudget<TaskRecord> = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (t, text) => {
    let bytes = text(t.argsJson) + text(t.resultJson ?? "") + errorBytes(t.error, text) + mapBytes(t.options.metadata, text) + 512;
    for (const a of t.attempts ?? []) bytes += errorBytes(a.error, text) + 96;
    return bytes;
  },
};

function errorBytes(error: TaskErrorData | undefined, text: TextBytes): number {
  return error === undefined ? 0 : text(error.message) + text(error.stack) + text(error.type);
}

/** TaskService, implemented once for both transports. */
export function taskService(plane: ControlPlane): ServiceImpl<typeof TaskService> {
  const maxPayload = plane.config.maxPayloadBytes;
  return {
    async submit(request) {
      const { id, deduplicated, state } = plane.submit(validateSubmit(request, maxPayload), Date.now());
      await plane.durable(); // acknowledged = on disk
      return create(SubmitResponseSchema, { id, deduplicated, state });
    },

    async submitBatch(request) {
      if (request.tasks.length > MAX_BATCH) {
        throw new ConnectError(`a batch holds at most ${MAX_BATCH} tasks (got ${request.tasks.length}); split it`, Code.InvalidArgument);
      }
      const now = Date.now();
      const results = request.tasks.map((item, index) => {
        try {
          const { id, deduplicated } = plane.submit(validateSubmit(item, maxPayload), now);
          return create(SubmitBatchResultSchema, { id, deduplicated });
        } catch (err) {
          if (!(err instanceof ConnectError)) throw err; // a bug, not bad input: the whole call fails INTERNAL (logged)
          return create(SubmitBatchResultSchema, {
            error: create(ErrorStatusSchema, { code: err.code, message: `task ${index}: ${err.rawMessage}` }),
          });
        }
      });
      await plane.durable(); // one group commit for the whole batch
      return { results };
    },

    getTask(request) {
      const now = Date.now();
      return { task: taskMessage(plane.get(validateTaskId(request.id), now), TaskView.FULL, plane, now) };
    },

    async waitTask(request, ctx) {
      const task = plane.get(validateTaskId(request.id), Date.now());
      const requested = durationToMs(request.timeout) ?? 0;
      if (requested < 0) throw new ConnectError("the timeout must not be negative", Code.InvalidArgument);
      const timeoutMs = requested === 0 ? MAX_WAIT_MS : Math.min(requested, MAX_WAIT_MS);
      if (!isFinalState(task.state)) {
        await new Promise<void>((resolve) => {
          const finish = (): void => {
            clearTimeout(timer);
            unsubscribe();
            ctx.signal.removeEventListener("abort", finish);
            resolve();
          };
          const waiter = { taskFinished: finish };
          const timer = setTimeout(finish, timeoutMs);
          const unsubscribe = (): void => plane.waiters.remove(task, waiter);
          plane.waiters.add(task, waiter);
          ctx.signal.addEventListener("abort", finish);
        });
      }
      const now = Date.now();
      return { task: taskMessage(task, TaskView.FULL, plane, now) };
    },

    session(requests, ctx) {
      const session = new SessionStream(plane, ctx);
      void session.consume(requests);
      return session.out;
    },

    async cancelTask(request) {
      const now = Date.now();
      const task = taskMessage(plane.cancel(validateTaskId(request.id), request.reason, now), TaskView.FULL, plane, now);
      await plane.durable(); // answered (as it was then) once the cancel is on disk
      return { task };
    },

    async retryTask(request) {
      const now = Date.now();
      const task = taskMessage(plane.retry(validateTaskId(request.id), now), TaskView.FULL, plane, now);
      await plane.durable();
      return { task };
    },

    async cancelTasks(request) {
      const outcome = await cancelMany(plane, bulkSelection(request.selection), request.reason, Date.now());
      if (outcome.done > 0) await plane.durable();
      return { matched: BigInt(outcome.matched), done: BigInt(outcome.done), skipped: BigInt(outcome.skipped) };
    },

    async retryTasks(request) {
      const outcome = await retryMany(plane, bulkSelection(request.selection), Date.now());
      if (outcome.done > 0) await plane.durable();
      return { matched: BigInt(outcome.matched), done: BigInt(outcome.done), skipped: BigInt(outcome.skipped) };
    },

    async runTaskNow(request) {
      const now = Date.now();
      const task = taskMessage(plane.runNow(validateTaskId(request.id), now), TaskView.FULL, plane, now);
      await plane.durable();
      return { task };
    },

    getTaskLogs(request) {
      const task = plane.get(validateTaskId(request.id), Date.now());
      const logs = task.logs ?? [];
      const after = Math.max(0, Math.min(request.after, logs.length));
      return {
        lines: logs.slice(after).map((l) => create(LogLineSchema, { time: timestampFromMs(l.at), attempt: l.attempt, text: l.text })),
        nextAfter: logs.length,
        dropped: task.logsDropped,
        state: task.state,
      };
    },

    async listTasks(request) {
      const pageSize = request.pageSize === 0 ? DEFAULT_PAGE : request.pageSize;
      if (pageSize < 0 || pageSize > MAX_PAGE) {
        throw new ConnectError(`page_size must be between 1 and ${MAX_PAGE} (got ${pageSize})`, Code.InvalidArgument);
      }
      const filter = filterFromMessage(request.filter, request);
      const order = orderFromMessage(request.order, filter);
      const cursor = request.pageToken === "" ? undefined : decodeCursor(request.pageToken);
      if (cursor === undefined && request.pageToken !== "") {
        throw new ConnectError("the page token is not one this server gave out; start again without it", Code.InvalidArgument);
      }
      if (cursor !== undefined && cursor.order !== order) {
        throw new ConnectError("the page token belongs to a listing in another order; start again without it", Code.InvalidArgument);
      }
      if (cursor !== undefined && request.lastPage) throw new ConnectError("ask for the last page or give a page token, not both", Code.InvalidArgument);
      const now = Date.now();
      const view = request.view === TaskView.FULL ? TaskView.FULL : TaskView.BASIC;
      const page = await plane.store.list(filter, { order, cursor, last: request.lastPage, limit: pageSize }, now);
      // A FULL page carries args and results: it ends early rather than pass MAX_MESSAGE_BYTES (a page
      // of 1000 tasks with 1 MiB args each must not build a 1 GiB answer). The next page starts after it.
      let { tasks, next } = page;
      if (view === TaskView.FULL) {
        const fits = countByBytes(tasks, 0, FULL_TASK_BYTES);
        if (fits < tasks.length) {
          tasks = tasks.slice(0, fits);
          next = cursorAfter(tasks[fits - 1]!, order);
        }
      }
      return {
        tasks: tasks.map((task) => taskMessage(task, view, plane, now)),
        nextPageToken: next === undefined ? "" : encodeCursor(next),
        previousPageToken: page.previous === undefined ? "" : encodeCursor(page.previous),
        totalSize: page.total,
      };
    },
  };
}

/** A BulkSelection message, validated (the filter as ListTasks takes it; ids bounded). */
function bulkSelection(message: BulkSelection | undefined): BulkSelectionInput {
  const ids = message?.ids ?? [];
  if (ids.length > 0 && message?.filter !== undefined) throw new ConnectError("give a filter or ids, not both", Code.InvalidArgument);
  const expected = message?.expectedCount ?? 0n;
  if (expected < 0n || expected > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConnectError(`expected_count ${expected} is not a count`, Code.InvalidArgument);
  return {
    filter: filterFromMessage(message?.filter),
    ids: ids.length > MAX_BULK_IDS ? ids : ids.map(validateTaskId), // too many: refused by the engine, unread
    dryRun: message?.dryRun ?? false,
    expectedCount: Number(expected),
  };
}
