/**
 * The control plane of fw-server (same startServer(), same defaults), with
 * wall-clock stamps at each hop of a task for the latency breakdown. The core
 * is not modified: stamps come from the control plane's typed events, plus
 * two wrappers installed on this process's instances (waiters.add and
 * store.get) to see when the control plane learns that a client waits for a task.
 *
 * Prints fw-server's ready line; answers {type:"stamps"} IPC requests.
 * Usage: node --import tsx bench/breakdown/instrumented-server.ts [--max-results N]
 */
import { startServer } from "fastworker/server";
import { parseArgs } from "node:util";
import { wallNow } from "../producer/protocol.js";
import type { ServerStamps, StampsRequest, StampsResponse } from "./stamps.js";

const { values } = parseArgs({ options: { "max-results": { type: "string", default: "10000" } } });
const server = await startServer({ port: 0, httpPort: 0, maxResults: Number(values["max-results"]) });
const plane = server.plane;
const stamps = new Map<string, ServerStamps>();
const stampOf = (id: string): ServerStamps | undefined => stamps.get(id);

plane.events.on("task.submitted", (task) => stamps.set(task.id, { submitted: wallNow() }));
plane.events.on("task.dispatched", (task) => {
  const s = stampOf(task.id);
  if (s !== undefined) s.dispatched ??= wallNow();
});
plane.events.on("task.finished", (task) => {
  const s = stampOf(task.id);
  if (s !== undefined) s.finished = wallNow();
});

// Bench-only instance wrappers (not the core): a followed unfinished task adds a waiter ...
const waiters = plane.waiters;
const addWaiter = waiters.add.bind(waiters);
waiters.add = (task, waiter) => {
  const s = stampOf(task.id);
  if (s !== undefined) s.waitArrived ??= wallNow();
  return addWaiter(task, waiter);
};
// ... and one for a finished task is a lookup after it finished (acks and results look tasks up before).
const store = plane.store;
const getTask = store.get.bind(store);
store.get = (id, now) => {
  const s = stampOf(id);
  if (s !== undefined && s.finished !== undefined && s.waitArrived === undefined) {
    s.waitArrived = wallNow();
    s.waitLate = true;
  }
  return getTask(id, now);
};

process.on("message", (message: StampsRequest) => {
  if (message?.type !== "stamps") return;
  const picked: Record<string, ServerStamps> = {};
  for (const id of message.ids) {
    const s = stamps.get(id);
    if (s !== undefined) picked[id] = s;
  }
  process.send?.({ type: "stamps", stamps: picked } satisfies StampsResponse);
});

let stopping = false;
const stop = (): void => {
  if (stopping) process.exit(130);
  stopping = true;
  server.stop().then(() => process.exit(0), () => process.exit(1));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdout.write(`fw-server ready grpc=${server.grpcAddress} http=${server.httpUrl} (instrumented for the latency breakdown)\n`);
