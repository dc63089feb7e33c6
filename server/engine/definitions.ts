import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskDefinition } from "../../gen/fastworker/v1/worker_service_pb.js";
import { durationToMs } from "../../common/time.js";
import type { RetryPolicyData } from "./task-record.js";

/** A task definition as workers declared it; unset fields are undefined. */
export interface DefinitionData {
  priority: Priority;
  retry: Partial<RetryPolicyData> | undefined;
  timeoutMs: number | undefined;
}

/**
 * The task definitions workers declared when they registered (the latest
 * registration wins). Submissions that do not set priority, retry or timeout
 * get them from here, resolved late: when the task is queued (priority),
 * dispatched (timeout) or fails (retry).
 */
export class Definitions {
  private readonly byName = new Map<string, DefinitionData>();

  declare(definitions: readonly TaskDefinition[]): void {
    for (const d of definitions) {
      this.byName.set(d.name, {
        priority: d.priority,
        timeoutMs: durationToMs(d.timeout) || undefined,
        retry:
          d.retry === undefined
            ? undefined
            : {
                maxAttempts: d.retry.maxAttempts || undefined,
                initialBackoffMs: durationToMs(d.retry.initialBackoff),
                maxBackoffMs: durationToMs(d.retry.maxBackoff),
                multiplier: d.retry.multiplier || undefined,
              },
      });
    }
  }

  get(name: string): DefinitionData | undefined {
    return this.byName.get(name);
  }

  /** The priority for a submission that did not choose one. */
  defaultPriority(name: string): Priority {
    return this.byName.get(name)?.priority || Priority.NORMAL;
  }
}
