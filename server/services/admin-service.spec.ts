import { create } from "@bufbuild/protobuf";
import { Code, createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AdminService, WatchStatsRequestSchema } from "../../gen/fastworker/v1/admin_service_pb.js";
import { silentLogger } from "../../common/logger.js";
import { engineConfig } from "../engine/config.js";
import { ControlPlane } from "../engine/control-plane.js";
import { DashboardFeeds } from "../dashboard/dashboard-feeds.js";
import { adminService } from "./admin-service.js";

// Found by the abuse suite: a WatchStats interval past 2^31 ms made Node fire the stream's timer at
// once (TimeoutOverflowWarning), so the stream sent a message every millisecond for as long as it was open.

const ctx = createHandlerContext({
  service: AdminService,
  method: AdminService.method.watchStats,
  protocolName: "test",
  requestMethod: "POST",
  url: "/fastworker.v1.AdminService/WatchStats",
});

describe("WatchStats", () => {
  it("refuses an interval past an hour, or negative, with INVALID_ARGUMENT", async () => {
    const plane = new ControlPlane(engineConfig());
    const service = adminService(plane, new DashboardFeeds(plane, silentLogger()));
    for (const seconds of [2n ** 62n, 3601n, -1n]) {
      const stream = service.watchStats(create(WatchStatsRequestSchema, { interval: { seconds, nanos: 0 } }), ctx) as AsyncIterable<unknown>;
      await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/^the interval must be between 0 and 3600s/) });
    }
    const ok = service.watchStats(create(WatchStatsRequestSchema, { interval: { seconds: 3600n, nanos: 0 } }), ctx) as AsyncGenerator<unknown>;
    expect((await ok.next()).done).toBe(false);
    await ok.return(undefined);
  });
});
