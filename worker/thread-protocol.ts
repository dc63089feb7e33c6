/** Messages between the executor and a task thread (see thread-pool.ts, thread-entry.ts). */
import type { PriorityName } from "../common/priority.js";

/** What a thread needs to run one attempt. */
export interface ThreadJob {
  /** Absolute path of the task module that defines the task. */
  modulePath: string;
  name: string;
  args: unknown;
  taskId: string;
  attempt: number;
  maxAttempts: number;
  priority: PriorityName;
  metadata: Record<string, string>;
}

/** An error as it crosses the thread boundary. */
export interface ThreadError {
  name: string;
  message: string;
  stack: string;
}

export type ToThread = { type: "run"; job: ThreadJob } | { type: "abort"; reason: ThreadError };

export type FromThread =
  | { type: "progress"; fraction: number; message: string }
  | { type: "log"; text: string }
  | { type: "done"; ok: true; value: unknown }
  | { type: "done"; ok: false; error: ThreadError };
