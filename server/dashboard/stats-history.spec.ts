import { describe, expect, it } from "vitest";
import { silentLogger } from "../../common/logger.js";
import { durationToMs, timestampToMs } from "../../common/time.js";
import { StatsHistory } from "./stats-history.js";
import { StatsCounters } from "../engine/stats.js";
import type { StateCounts } from "../store/store.js";

describe("StatsHistory", () => {
  it("samples what changed in each period and keeps the last `capacity` samples", () => {
    const stats = new StatsCounters();
    const counts: StateCounts = { queued: [0, 1, 2, 3, 4], scheduled: 0, running: 5, succeeded: 0, failed: 0, cancelled: 0 };
    const history = new StatsHistory({ stats, store: { counts: () => counts } }, silentLogger(), { capacity: 2 });
    history.runOnce(1000); // the first sample has nothing to compare with
    stats.submitted += 10;
    stats.succeeded += 7;
    stats.failed += 2;
    history.runOnce(2500);
    const [, second] = history.since(0);
    expect(second).toMatchObject({ submitted: 10n, succeeded: 7n, failed: 2n, cancelled: 0n, queued: 10n, running: 5n });
    expect(timestampToMs(second!.time)).toBe(2500);
    expect(durationToMs(second!.period)).toBe(1500);

    history.runOnce(3500);
    expect(history.since(0)).toHaveLength(2); // capacity
    expect(history.since(history.latest - 1)).toHaveLength(1); // only what a stream has not seen
    expect(history.since(history.latest)).toHaveLength(0);
  });
});
