/**
 * fastworker: a brokerless task queue. This entry point is what applications
 * and task modules import; the control plane is in "fastworker/server".
 */
export { task, isTaskDefinition } from "./worker/task.js";
export type { TaskContext, TaskDefinition, TaskHandler, TaskOptions } from "./worker/task.js";
export type { RetryOptions } from "./common/task-options.js";
export type { ScheduleOptions, MisfireName, OverlapName } from "./common/schedule-options.js";
export type { LimitOptions, RateLimitOptions } from "./common/limit-options.js";
export type { ScheduleInfo, LimitInfo, FlowLimitInfo } from "./client/schedule-info.js";
export { NonRetryableError } from "./worker/non-retryable-error.js";
export { TaskCancelledError } from "./worker/task-cancelled-error.js";
export { TaskTimeoutError } from "./worker/task-timeout-error.js";
export { WorkerShutdownError } from "./worker/worker-shutdown-error.js";
export { Worker } from "./worker/worker.js";
export type { WorkerOptions, WorkerEventMap } from "./worker/worker.js";
export { loadTaskModules, TaskModuleError } from "./worker/loader.js";
export { Client, TaskHandle, defaultServer } from "./client/client.js";
export type { ClientOptions, ClientDiscoverOptions, SubmitOptions, WaitOptions, ListOptions, TaskPageInfo } from "./client/client.js";
export type { TaskFilterOptions, TaskOrderName, BulkOptions, BulkResult } from "./client/task-filter.js";
export { discoverControlPlane, describeDiscovery } from "./common/discovery/discover.js";
export type { Discovery, DiscoveryOptions, DiscoverOptions } from "./common/discovery/discover.js";
export type { Beacon } from "./common/discovery/beacon.js";
export type { HeardBeacon } from "./common/discovery/beacon-listener.js";
export type { TlsClientOptions } from "./common/transport/grpc-client.js";
export { taskRef } from "./client/task-ref.js";
export type { TaskRef, ArgsOf, ResultOf } from "./client/task-ref.js";
export { TaskFailedError } from "./client/task-failed-error.js";
export type { TaskInfo, TaskErrorInfo, AttemptInfo, WorkerInfo, StatsInfo, TaskNameInfo, TaskLogsInfo } from "./client/task-info.js";
export type { PriorityName } from "./common/priority.js";
export type { TaskStateName } from "./common/task-state.js";
export { ConnectError, Code } from "@connectrpc/connect";
