import { Code, ConnectError } from "@connectrpc/connect";
import { Priority } from "../../gen/fastworker/v1/task_pb.js";
import type { SubmitRequest } from "../../gen/fastworker/v1/task_service_pb.js";
import type { TaskDefinition } from "../../gen/fastworker/v1/worker_service_pb.js";
import type { RetryPolicy } from "../../gen/fastworker/v1/task_pb.js";
import { isKnownPriority } from "../../common/priority.js";
import { parseJsonText, valueToJson } from "../../common/json.js";
import { jsonLimitProblem } from "../../common/json-limits.js";
import { durationToMs, timestampToMs } from "../../common/time.js";
import { overLimit } from "../../common/format-bytes.js";
import { exceedsBytes } from "../../common/split-by-bytes.js";
import { MAX_TIMER_MS } from "../loops/due-timer.js";
import { MAX_BACKOFF_MS } from "./retry-policy.js";
import type { SubmitInput } from "./control-plane.js";
import { NO_OPTIONS, type RetryPolicyData, type SubmitOptions } from "../store/task-record.js";

/** The longest task name accepted. */
export const MAX_TASK_NAME = 200;
const MAX_KEY = 256;
const MAX_DELAY_MS = 366 * 24 * 3600_000;
const MAX_METADATA_BYTES = 16 * 1024;

const invalid = (message: string): ConnectError => new ConnectError(message, Code.InvalidArgument);

/** Checks a task name; throws INVALID_ARGUMENT saying what is wrong with it. */
export function validateTaskName(name: string, what = "task name"): string {
  if (name.length === 0) throw invalid(`the ${what} is empty; give the name a worker registered, e.g. "add"`);
  if (name.length > MAX_TASK_NAME) throw invalid(`the ${what} is ${name.length} characters; the limit is ${MAX_TASK_NAME}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) {
    throw invalid(`the ${what} ${JSON.stringify(name)} has control characters or surrounding spaces`);
  }
  return name;
}

/** Checks a task id argument is present (existence is checked by the lookup). */
export function validateTaskId(id: string): string {
  if (id.length === 0) throw invalid("the task id is empty");
  if (id.length > 200) throw invalid(`the task id is ${id.length} characters; task ids are at most 200`);
  return id;
}

/** Turns a SubmitRequest into a SubmitInput, or throws the status a person can act on. */
export function validateSubmit(request: SubmitRequest, maxPayloadBytes: number): SubmitInput {
  const name = validateTaskName(request.task);
  const argsJson = argsText(request);
  if (exceedsBytes(argsJson, maxPayloadBytes)) {
    throw new ConnectError(
      `${overLimit("the args are", Buffer.byteLength(argsJson), maxPayloadBytes)} (fw-server --max-payload); pass a reference (a URL, a key) to large data instead`,
      Code.ResourceExhausted,
    );
  }
  if (request.priority !== Priority.UNSPECIFIED && !isKnownPriority(request.priority)) {
    throw invalid(`unknown priority ${request.priority}; use PRIORITY_CRITICAL, PRIORITY_HIGH, PRIORITY_NORMAL or PRIORITY_LOW`);
  }
  const delayMs = request.runAt === undefined ? (durationToMs(request.delay) ?? 0) : delayUntil(request);
  if (!(delayMs >= 0 && delayMs <= MAX_DELAY_MS)) throw invalid(`the delay must be between 0 and 366 days (got ${delayMs / 1000}s)`);
  return { name, argsJson, priority: request.priority, delayMs, options: submitOptions(request) };
}

/** run_at as a delay from now: a time in the past runs now. */
function delayUntil(request: SubmitRequest): number {
  if (request.delay !== undefined) throw invalid("set delay or run_at, not both");
  const at = timestampToMs(request.runAt);
  if (!Number.isFinite(at)) throw invalid("run_at is not a valid time");
  return Math.max(0, at - Date.now());
}

function argsText(request: SubmitRequest): string {
  let text: string;
  if (request.args !== undefined) {
    if (request.argsJson !== "") throw invalid("set args or args_json, not both");
    try {
      text = JSON.stringify(valueToJson(request.args));
    } catch (err) {
      throw invalid(`the args are not a valid JSON value: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    if (request.argsJson === "") return "null";
    parseJsonText(request.argsJson, "the args");
    text = request.argsJson;
  }
  // A stored task must read back: no nesting past what protobuf decoders take, no number that is Infinity.
  const problem = jsonLimitProblem(text);
  if (problem !== undefined) throw invalid(`the args have ${problem}`);
  return text;
}

function submitOptions(request: SubmitRequest): SubmitOptions {
  const key = request.idempotencyKey;
  const timeoutMs = durationToMs(request.timeout);
  const metadata = Object.keys(request.metadata).length > 0 ? request.metadata : undefined;
  if (!key && request.retry === undefined && timeoutMs === undefined && metadata === undefined) return NO_OPTIONS;
  if (key.length > MAX_KEY) throw invalid(`the idempotency key is ${key.length} characters; the limit is ${MAX_KEY}`);
  if (timeoutMs !== undefined) validateTimeout(timeoutMs);
  if (metadata !== undefined) {
    const bytes = Object.entries(metadata).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    if (bytes > MAX_METADATA_BYTES) throw invalid(overLimit("the metadata is", bytes, MAX_METADATA_BYTES));
  }
  return {
    ...(key ? { idempotencyKey: key } : {}),
    ...(request.retry !== undefined ? { retry: retryOverride(request.retry) } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(metadata !== undefined ? { metadata: { ...metadata } } : {}),
  };
}

/** Timeouts run on one timer: at most 24 days (2^31-1 ms). */
function validateTimeout(timeoutMs: number): void {
  if (!(timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)) throw invalid(`the timeout must be between 0 and 24 days (got ${timeoutMs / 1000}s)`);
}

/** Checks a task definition a worker declared (priority, timeout, retry), so a bad one cannot break submissions. */
export function validateDefinition(definition: TaskDefinition): void {
  validateTaskName(definition.name);
  const what = `task "${definition.name}":`;
  if (definition.priority !== Priority.UNSPECIFIED && !isKnownPriority(definition.priority)) {
    throw invalid(`${what} unknown priority ${definition.priority}`);
  }
  try {
    const timeoutMs = durationToMs(definition.timeout);
    if (timeoutMs !== undefined) validateTimeout(timeoutMs);
    if (definition.retry !== undefined) retryOverride(definition.retry);
  } catch (err) {
    throw invalid(`${what} ${err instanceof ConnectError ? err.rawMessage : String(err)}`);
  }
}

function retryOverride(retry: RetryPolicy): Partial<RetryPolicyData> {
  const initial = durationToMs(retry.initialBackoff);
  const max = durationToMs(retry.maxBackoff);
  if (retry.maxAttempts < 0 || retry.maxAttempts > 1000) throw invalid(`max attempts must be between 1 and 1000 (got ${retry.maxAttempts})`);
  if (initial !== undefined && !(initial >= 0 && initial <= MAX_BACKOFF_MS)) throw invalid(`the initial backoff must be between 0 and 24 hours (got ${initial / 1000}s)`);
  if (max !== undefined && !(max >= 0 && max <= MAX_BACKOFF_MS)) throw invalid(`the max backoff must be between 0 and 24 hours (got ${max / 1000}s)`);
  if (retry.multiplier !== 0 && !(retry.multiplier >= 1 && retry.multiplier <= 100)) {
    throw invalid(`the backoff multiplier must be between 1 and 100 (got ${retry.multiplier})`);
  }
  const override: Partial<RetryPolicyData> = {};
  if (retry.maxAttempts) override.maxAttempts = retry.maxAttempts;
  if (initial !== undefined) override.initialBackoffMs = initial;
  if (max !== undefined) override.maxBackoffMs = max;
  if (retry.multiplier) override.multiplier = retry.multiplier;
  return override;
}
