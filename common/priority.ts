import { Code, ConnectError } from "@connectrpc/connect";
import { Priority } from "../gen/fastworker/v1/task_pb.js";

/** The priority names users type and read; index + 1 is the wire enum value. */
export const PRIORITY_NAMES = ["critical", "high", "normal", "low"] as const;

/** A priority as users write it. */
export type PriorityName = (typeof PRIORITY_NAMES)[number];

/** Parses a priority name (case-insensitive); throws INVALID_ARGUMENT naming the choices. */
export function priorityFromName(name: string): Priority {
  const index = PRIORITY_NAMES.indexOf(name.toLowerCase() as PriorityName);
  if (index < 0) {
    throw new ConnectError(
      `unknown priority "${name}": use one of ${PRIORITY_NAMES.join(", ")}`,
      Code.InvalidArgument,
    );
  }
  return (index + 1) as Priority;
}

/** The name of a wire priority; UNSPECIFIED reads as "normal". */
export function priorityName(priority: Priority): PriorityName {
  return PRIORITY_NAMES[priority - 1] ?? "normal";
}

/** True for the four real priorities (not UNSPECIFIED, not an unknown number). */
export function isKnownPriority(priority: number): priority is Priority {
  return priority >= Priority.CRITICAL && priority <= Priority.LOW;
}
