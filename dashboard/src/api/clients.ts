import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AdminService } from "../../../gen/fastworker/v1/admin_service_pb.js";
import { TaskService } from "../../../gen/fastworker/v1/task_service_pb.js";
import { LimitService } from "../../../gen/fastworker/v1/limit_service_pb.js";
import { ScheduleService } from "../../../gen/fastworker/v1/schedule_service_pb.js";
import { token } from "./token.js";

/** Adds `authorization: Bearer <token>` to every call once a token is known. */
const withToken: Interceptor = (next) => (req) => {
  if (token.value) req.header.set("authorization", `Bearer ${token.value}`);
  return next(req);
};

/**
 * Connect over fetch to the control plane that served this page (same
 * origin), in the binary format: smaller and cheaper to decode than JSON.
 */
const transport = createConnectTransport({
  baseUrl: window.location.origin,
  useBinaryFormat: true,
  interceptors: [withToken],
});

/** Stats, workers and the live streams. */
export const admin: Client<typeof AdminService> = createClient(AdminService, transport);

/** Schedules: list, pause, resume, run now, delete. */
export const schedules: Client<typeof ScheduleService> = createClient(ScheduleService, transport);

/** Flow limits and their use. */
export const limits: Client<typeof LimitService> = createClient(LimitService, transport);

/** Listing, detail, cancel and retry. */
export const tasks: Client<typeof TaskService> = createClient(TaskService, transport);
