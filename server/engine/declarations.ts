import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskDefinition } from "../../gen/fastworker/v1/worker_service_pb.js";
import { specFromMessage } from "../schedules/schedule-spec.js";
import { limitFromMessage } from "./limits/limit-spec.js";

/**
 * Checks the schedules and flow limits a task definition declares, so a bad
 * one refuses the registration (INVALID_ARGUMENT naming the task) before
 * anything of it is applied.
 */
export function validateDeclarations(definition: TaskDefinition, maxPayloadBytes: number): void {
  limitFromMessage(definition.limit, `task "${definition.name}"`, false);
  const ids = new Set<string>();
  for (const message of definition.schedules) {
    const spec = specFromMessage(message, { maxPayloadBytes, declaredBy: definition.name });
    if (ids.has(spec.id)) {
      throw new ConnectError(`task "${definition.name}" declares schedule "${spec.id}" twice; give each schedule its own id`, Code.InvalidArgument);
    }
    ids.add(spec.id);
  }
}
