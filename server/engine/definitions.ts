import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import type { TaskDefinition } from "../../gen/fastworker/v1/worker_service_pb.js";
import { durationToMs } from "../../common/time.js";
import { priorityName } from "../../common/priority.js";
import type { LogValue } from "../store/state-log.js";
import type { RetryPolicyData } from "../store/task-record.js";

/** A task definition as workers declared it; unset fields are undefined. */
export interface DefinitionData {
  priority: Priority;
  retry: Partial<RetryPolicyData> | undefined;
  timeoutMs: number | undefined;
}

/**
 * The task definitions workers declared when they registered: one per task
 * name. Submissions that do not set priority, retry or timeout get them
 * from here, resolved late: when the task is queued (priority), dispatched
 * (timeout) or fails (retry). A priority is chosen before any worker is, so
 * a name cannot have one definition per worker: the control plane refuses a
 * registration whose definition differs while workers that declared the
 * current one are connected ({@link differences}; see ControlPlane.register).
 */
export class Definitions {
  private readonly byName = new Map<string, DefinitionData>();

  /** Takes the definitions a worker declared; returns the names whose definition changed. */
  declare(definitions: readonly TaskDefinition[]): string[] {
    const changed: string[] = [];
    for (const d of definitions) {
      const data = definitionData(d);
      if (sameDefinition(data, this.byName.get(d.name))) continue;
      this.byName.set(d.name, data);
      changed.push(d.name);
    }
    return changed;
  }

  /**
   * How a declared definition differs from the current one of its name, one
   * phrase per field ("priority high, not normal"); empty when they agree,
   * undefined when the name has no definition yet.
   */
  differences(definition: TaskDefinition): string[] | undefined {
    const current = this.byName.get(definition.name);
    if (current === undefined) return undefined;
    const declared = definitionData(definition);
    if (sameDefinition(declared, current)) return [];
    const show = (v: unknown): string => (v === undefined ? "unset" : String(v));
    const out: string[] = [];
    const field = (name: string, a: unknown, b: unknown): void => {
      if (a !== b) out.push(`${name} ${show(a)}, not ${show(b)}`);
    };
    const priority = (p: Priority): string | undefined => (p === Priority.UNSPECIFIED ? undefined : priorityName(p));
    field("priority", priority(declared.priority), priority(current.priority));
    field("timeout (ms)", declared.timeoutMs, current.timeoutMs);
    for (const key of ["maxAttempts", "initialBackoffMs", "maxBackoffMs", "multiplier"] as const) {
      field(`retry.${key}`, declared.retry?.[key], current.retry?.[key]);
    }
    return out;
  }

  /** A definition read back from the state log (at start). */
  restore(name: string, value: LogValue): void {
    this.byName.set(name, decodeDefinition(value));
  }

  /** The log value of a name's definition. */
  record(name: string): LogValue {
    return encodeDefinition(this.byName.get(name));
  }

  /** Names with a definition. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  get(name: string): DefinitionData | undefined {
    return this.byName.get(name);
  }

  /** The priority for a submission that did not choose one. */
  defaultPriority(name: string): Priority {
    return this.byName.get(name)?.priority || Priority.NORMAL;
  }
}

function definitionData(d: TaskDefinition): DefinitionData {
  return {
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
  };
}

function sameDefinition(a: DefinitionData, b: DefinitionData | undefined): boolean {
  return JSON.stringify(encodeDefinition(a)) === JSON.stringify(encodeDefinition(b));
}

function encodeDefinition(data: DefinitionData | undefined): LogValue {
  if (data === undefined) return null;
  const retry = data.retry === undefined ? null : JSON.parse(JSON.stringify(data.retry)) as LogValue; // drops undefined fields
  return [data.priority, retry, data.timeoutMs ?? null];
}

function decodeDefinition(value: LogValue): DefinitionData {
  const [priority, retry, timeoutMs] = value as readonly [Priority, Partial<RetryPolicyData> | null, number | null];
  return { priority, retry: retry ?? undefined, timeoutMs: timeoutMs ?? undefined };
}
