// Micro-benchmark, not used by default runs: what ListTasks costs with 100,000 tasks kept.
//   npm run build && node bench/experiments/list-tasks-100k.mjs [N]
// One control plane in memory (no sockets): N tasks (default 100,000) of 10 names, 60% succeeded,
// 5% failed with an error message, 35% queued over the four priorities, each with an attempt on
// one of 4 workers once it ran; args like {"customer":"c123","n":5}. Each query is the
// TaskService.listTasks implementation itself (filtering, paging and the 50 BASIC Task messages
// it answers), timed as the median of 21 calls after 3 warm-ups. Prints ms per call.
import { create } from "@bufbuild/protobuf";
import { AttemptOutcome, Priority, TaskState } from "../../dist/gen/fastworker/v1/task_pb.js";
import { ListTasksRequestSchema, TaskOrder } from "../../dist/gen/fastworker/v1/task_service_pb.js";
import { timestampFromMs } from "../../dist/common/time.js";
import { engineConfig } from "../../dist/server/engine/config.js";
import { ControlPlane } from "../../dist/server/engine/control-plane.js";
import { taskService } from "../../dist/server/services/task-service.js";
import { NO_OPTIONS, TaskRecord } from "../../dist/server/store/task-record.js";

const N = Number(process.argv[2] ?? 100_000);
const NAMES = ["send-email", "resize-image", "charge-card", "sync-crm", "build-report", "index-doc", "notify", "export-csv", "thumbnail", "cleanup"];
const plane = new ControlPlane(engineConfig({ maxResults: N * 2, resultTtlMs: 24 * 3600_000 }));
const store = plane.store;
const t0 = Date.now() - N * 10;
const created = [];
for (let i = 0; i < N; i++) {
  const name = NAMES[i % NAMES.length];
  const task = new TaskRecord(`t${String(i).padStart(12, "0")}`, name, Priority.CRITICAL + (i % 4), JSON.stringify({ customer: `c${i % 50_000}`, n: i }), t0 + i * 10, i + 1, NO_OPTIONS);
  store.insert(task);
  created.push(task);
}
let failedCount = 0;
for (let i = 0; i < N; i++) {
  const r = i % 20;
  if (r >= 13) continue; // 35% stay queued
  const task = store.takeNext([created[i].name]);
  const attempt = store.startAttempt(task, `w${i % 4}`, `worker-${i % 4}`, task.createdAt + 1);
  if (r === 0) {
    const error = { message: `SMTP 550 mailbox unavailable for customer c${i % 50_000}`, stack: "", type: "Error", retryable: false };
    store.endAttempt(attempt, AttemptOutcome.FAILED, task.createdAt + 5, error);
    store.finish(task, TaskState.FAILED, task.createdAt + 5, { error });
    failedCount++;
  } else {
    store.endAttempt(attempt, AttemptOutcome.SUCCEEDED, task.createdAt + 5);
    store.finish(task, TaskState.SUCCEEDED, task.createdAt + 5, { resultJson: "true" });
  }
}
const service = taskService(plane);
const first = await service.listTasks(create(ListTasksRequestSchema, { pageSize: 50 }), {});
const newestLast = await service.listTasks(create(ListTasksRequestSchema, { pageSize: 50, lastPage: true }), {});
const middle = t0 + N * 5;
const queries = [
  ["newest, first page", {}],
  ["newest, next page", { pageToken: first.nextPageToken }],
  ["newest, previous page (from the last)", { pageToken: newestLast.previousPageToken }],
  ["newest, last page", { lastPage: true }],
  ["oldest first, first page", { order: TaskOrder.OLDEST_FIRST }],
  ["next to run, first page (35% queued)", { order: TaskOrder.NEXT_TO_RUN }],
  ["next to run, last page", { order: TaskOrder.NEXT_TO_RUN, lastPage: true }],
  ["state failed (counters know the total)", { filter: { states: [TaskState.FAILED] } }],
  ["name contains \"mail\"", { filter: { nameContains: "MAIL" } }],
  ["text in args or errors, 2 matches", { filter: { text: "c12345\"" } }],
  ["text found nowhere (full scan)", { filter: { text: "no such text" } }],
  ["worker worker-2", { filter: { worker: "worker-2" } }],
  ["created in a 10% window", { filter: { createdAfter: timestampFromMs(middle), createdBefore: timestampFromMs(middle + N) } }],
  ["failed, text in errors, last page", { filter: { states: [TaskState.FAILED], text: "mailbox" }, lastPage: true }],
];
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
console.log(`${N.toLocaleString("en-US")} tasks kept (${failedCount.toLocaleString("en-US")} failed, ${store.counts().queued.reduce((a, b) => a + b, 0).toLocaleString("en-US")} queued); ms per ListTasks call of 50, median of 21`);
for (const [label, request] of queries) {
  const message = create(ListTasksRequestSchema, { pageSize: 50, ...request });
  const times = [];
  let answer;
  for (let i = 0; i < 24; i++) {
    const started = performance.now();
    answer = await service.listTasks(message, {});
    if (i >= 3) times.push(performance.now() - started);
  }
  console.log(`${label.padEnd(44)} ${median(times).toFixed(2).padStart(8)} ms   (${answer.tasks.length} of ${answer.totalSize.toLocaleString("en-US")})`);
}
