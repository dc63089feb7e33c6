import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { LimitInfoSchema, LimitUsageSchema, type LimitInfo } from "../../gen/fastworker/v1/limit_pb.js";
import { LimitService } from "../../gen/fastworker/v1/limit_service_pb.js";
import { timestampFromMs } from "../../common/time.js";
import type { ControlPlane } from "../engine/control-plane.js";
import type { LimitState } from "../engine/limits/flow-limits.js";
import { limitFromMessage, limitMessage } from "../engine/limits/limit-spec.js";
import { validateTaskName } from "../engine/validate.js";

/** LimitService, implemented once for both transports. Overrides are answered once they are durable. */
export function limitService(plane: ControlPlane): ServiceImpl<typeof LimitService> {
  return {
    listLimits(request) {
      const now = Date.now();
      const states = request.task ? [plane.limits.state(validateTaskName(request.task), now)] : plane.limits.list(now);
      return { limits: states.map(limitInfo) };
    },

    async setLimit(request) {
      const name = validateTaskName(request.task);
      const override = limitFromMessage(request.limit, `the limit of "${name}"`, true);
      if (override === undefined || Object.keys(override).length === 0) {
        throw new ConnectError("the limit sets nothing: give a concurrency, a rate or a key (0 or \"\" removes a declared one)", Code.InvalidArgument);
      }
      const state = plane.limits.setOverride(name, override, Date.now());
      await plane.durable();
      return { limit: limitInfo(state) };
    },

    async clearLimit(request) {
      const state = plane.limits.clearOverride(validateTaskName(request.task), Date.now());
      await plane.durable();
      return { limit: limitInfo(state) };
    },
  };
}

function limitInfo(state: LimitState): LimitInfo {
  return create(LimitInfoSchema, {
    task: state.name,
    declared: limitMessage(state.declared),
    override: limitMessage(state.override),
    effective: limitMessage(state.effective),
    running: state.running,
    waiting: state.waiting,
    lanes: state.lanes.map((lane) =>
      create(LimitUsageSchema, {
        key: lane.key,
        running: lane.running,
        waiting: lane.waiting,
        tokens: lane.tokens ?? 0,
        nextStartAt: timestampFromMs(lane.nextStartAt),
      }),
    ),
    lanesTotal: state.lanesTotal,
  });
}
