/**
 * The body of a task thread: imports the task module, runs one attempt at a
 * time as the executor asks, and reports progress and the outcome. Runs
 * inside a worker_threads Worker started by thread-pool.ts.
 */
import { parentPort } from "node:worker_threads";
import { loadTaskModules } from "./loader.js";
import type { TaskContext, TaskDefinition } from "./task.js";
import type { FromThread, ThreadError, ToThread } from "./thread-protocol.js";

const port = parentPort!;
const modules = new Map<string, Promise<Map<string, TaskDefinition>>>();
let controller: AbortController | undefined;

const send = (message: FromThread): void => port.postMessage(message);

const asThreadError = (err: unknown): ThreadError =>
  err instanceof Error ? { name: err.name, message: err.message, stack: err.stack ?? "" } : { name: "Error", message: String(err), stack: "" };

port.on("message", (message: ToThread) => {
  if (message.type === "abort") {
    const reason = Object.assign(new Error(message.reason.message), { name: message.reason.name });
    controller?.abort(reason);
    return;
  }
  const { job } = message;
  controller = new AbortController();
  const signal = controller.signal;
  void (async () => {
    try {
      let loading = modules.get(job.modulePath);
      if (loading === undefined) modules.set(job.modulePath, (loading = loadTaskModules([job.modulePath])));
      const definition = (await loading).get(job.name);
      if (definition === undefined) throw new Error(`the task module ${job.modulePath} no longer exports "${job.name}"`);
      const context: TaskContext = {
        taskId: job.taskId,
        name: job.name,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        priority: job.priority,
        metadata: job.metadata,
        signal,
        progress: (fraction, note = "") => send({ type: "progress", fraction, message: String(note) }),
        log: (line) => send({ type: "log", text: String(line) }),
      };
      const value = await definition.handler(job.args, context);
      send({ type: "done", ok: true, value });
    } catch (err) {
      send({ type: "done", ok: false, error: asThreadError(err) });
    }
  })();
});
