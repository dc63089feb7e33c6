/**
 * What a caller must hold to use each method (and HTTP route) of the
 * control plane: the one table both ports enforce (grpc-server.ts,
 * http-server.ts). A method missing here is refused to everyone, whatever
 * credential it comes with (fail closed), and `method-scopes.spec.ts` walks
 * every method of every service descriptor, so a new RPC cannot be
 * forgotten: it fails the build's tests until it has a row.
 *
 * - `read`: look, change nothing (tasks, stats, workers, live feeds, metrics).
 * - `client`: submit, cancel, retry, and everything `read` allows.
 * - `worker`: be a worker (register, receive assignments, report results).
 * - `public`: anyone, with or without a credential.
 *
 * Which credential grants which scope is in credentials.ts.
 */
export type Scope = "read" | "client" | "worker";

/** A row's requirement: a scope, or nothing at all. */
export type Requirement = Scope | "public";

export const METHOD_SCOPES: Readonly<Record<string, Requirement>> = {
  // TaskService: applications.
  "/fastworker.v1.TaskService/Submit": "client",
  "/fastworker.v1.TaskService/SubmitBatch": "client",
  // Submissions and following their outcomes share one stream.
  "/fastworker.v1.TaskService/Session": "client",
  "/fastworker.v1.TaskService/CancelTask": "client",
  "/fastworker.v1.TaskService/RetryTask": "client",
  // Actions on many tasks (a dry run changes nothing, but the call is the action's: one scope for both).
  "/fastworker.v1.TaskService/CancelTasks": "client",
  "/fastworker.v1.TaskService/RetryTasks": "client",
  "/fastworker.v1.TaskService/RunTaskNow": "client",
  "/fastworker.v1.TaskService/GetTask": "read",
  "/fastworker.v1.TaskService/WaitTask": "read",
  "/fastworker.v1.TaskService/ListTasks": "read",
  "/fastworker.v1.TaskService/GetTaskLogs": "read",
  // AdminService: the dashboard, `fw workers`, `fw stats`; pausing a task name changes what runs: a client's act.
  "/fastworker.v1.AdminService/GetStats": "read",
  "/fastworker.v1.AdminService/WatchStats": "read",
  "/fastworker.v1.AdminService/ListWorkers": "read",
  "/fastworker.v1.AdminService/WatchTasks": "read",
  "/fastworker.v1.AdminService/ListTaskNames": "read",
  "/fastworker.v1.AdminService/PauseTaskName": "client",
  "/fastworker.v1.AdminService/ResumeTaskName": "client",
  // ScheduleService: `fw schedule …` and the dashboard's Schedules tab; changing one is a client's act.
  "/fastworker.v1.ScheduleService/CreateSchedule": "client",
  "/fastworker.v1.ScheduleService/ListSchedules": "read",
  "/fastworker.v1.ScheduleService/GetSchedule": "read",
  "/fastworker.v1.ScheduleService/PauseSchedule": "client",
  "/fastworker.v1.ScheduleService/ResumeSchedule": "client",
  "/fastworker.v1.ScheduleService/DeleteSchedule": "client",
  "/fastworker.v1.ScheduleService/TriggerSchedule": "client",
  // LimitService: `fw limits …`; an override changes how tasks run, so it needs the client scope.
  "/fastworker.v1.LimitService/ListLimits": "read",
  "/fastworker.v1.LimitService/SetLimit": "client",
  "/fastworker.v1.LimitService/ClearLimit": "client",
  // WorkerService: workers. Dispatch and ReportResults also need the session's secret.
  "/fastworker.v1.WorkerService/RegisterWorker": "worker",
  "/fastworker.v1.WorkerService/Dispatch": "worker",
  "/fastworker.v1.WorkerService/ReportResults": "worker",
  // Health answers SERVING or NOT_SERVING and nothing else: open, so load balancers and
  // orchestrators (whose gRPC probes cannot send headers) can ask.
  "/grpc.health.v1.Health/Check": "public",
  "/grpc.health.v1.Health/Watch": "public",
  "/grpc.health.v1.Health/List": "public",
  // Reflection describes the API (public in the source anyway) to grpcurl / buf curl: any credential.
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": "read",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": "read",
  // HTTP routes on the HTTP port.
  "/metrics": "read",
};

/** The requirement of a method path ("/pkg.Service/Method") or route, or undefined when it has no row (refuse it). */
export function requirementOf(path: string): Requirement | undefined {
  return Object.hasOwn(METHOD_SCOPES, path) ? METHOD_SCOPES[path] : undefined;
}
