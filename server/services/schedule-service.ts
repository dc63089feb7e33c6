import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ScheduleService } from "../../gen/fastworker/v1/schedule_service_pb.js";
import type { ControlPlane } from "../engine/control-plane.js";
import { specFromMessage } from "../schedules/schedule-spec.js";
import type { ScheduleTicker } from "../schedules/schedule-ticker.js";
import { scheduleMessage } from "../schedules/schedule-view.js";

/** ScheduleService, implemented once for both transports. Changes are answered once they are durable. */
export function scheduleService(plane: ControlPlane, ticker: ScheduleTicker): ServiceImpl<typeof ScheduleService> {
  const view = (id: string, now: number) => scheduleMessage(plane.schedules.find(id), plane.store, now);
  const idOf = (id: string): string => {
    if (id === "") throw new ConnectError("the schedule id is empty", Code.InvalidArgument);
    return id;
  };
  return {
    async createSchedule(request) {
      if (request.schedule === undefined) throw new ConnectError("the request has no schedule", Code.InvalidArgument);
      const now = Date.now();
      const spec = specFromMessage(request.schedule, { maxPayloadBytes: plane.config.maxPayloadBytes });
      const entry = plane.schedules.create(spec, request.paused, now);
      await plane.durable();
      return { schedule: scheduleMessage(entry, plane.store, now) };
    },

    listSchedules() {
      const now = Date.now();
      return { schedules: plane.schedules.list().map((entry) => scheduleMessage(entry, plane.store, now)) };
    },

    getSchedule(request) {
      return { schedule: view(idOf(request.id), Date.now()) };
    },

    async pauseSchedule(request) {
      plane.schedules.pause(idOf(request.id));
      await plane.durable();
      return { schedule: view(request.id, Date.now()) };
    },

    async resumeSchedule(request) {
      plane.schedules.resume(idOf(request.id), Date.now());
      await plane.durable();
      return { schedule: view(request.id, Date.now()) };
    },

    async deleteSchedule(request) {
      plane.schedules.delete(idOf(request.id));
      await plane.durable();
      return {};
    },

    async triggerSchedule(request) {
      const now = Date.now();
      const taskId = ticker.trigger(plane.schedules.find(idOf(request.id)), now);
      await plane.durable();
      return { taskId, schedule: view(request.id, now) };
    },
  };
}
