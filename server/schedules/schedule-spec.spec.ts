import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ScheduleSpecSchema } from "../../gen/fastworker/v1/schedule_pb.js";
import { durationFromMs } from "../../common/time.js";
import { specFromMessage } from "./schedule-spec.js";

// Found by the abuse suite: a schedule's args became its tasks' args without the submission checks.

describe("specFromMessage", () => {
  it("applies the JSON rules of submissions to a schedule's args (nesting past 32 levels is refused)", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 33; i++) deep = [deep];
    const message = create(ScheduleSpecSchema, { id: "s", task: "job", every: durationFromMs(60_000), args: fromJson(ValueSchema, deep as never) });
    expect(() => specFromMessage(message, { maxPayloadBytes: 1 << 20 })).toThrow(expect.objectContaining({
      code: Code.InvalidArgument,
      rawMessage: "the schedule: the args have arrays or objects nested more than 32 levels deep (the limit)",
    }));
    const fine = create(ScheduleSpecSchema, { id: "s", task: "job", every: durationFromMs(60_000), args: fromJson(ValueSchema, [[1]]) });
    expect(specFromMessage(fine, { maxPayloadBytes: 1 << 20 }).argsJson).toBe("[[1]]");
  });
});
