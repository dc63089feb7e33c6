import { describe, expect, it } from "vitest";
import { recordedLeader } from "./group.js";
import type { LeaderInfo } from "./leadership.js";

const LEADER: LeaderInfo = { term: 1, holder: "a", grpc: "127.0.0.1:50051", http: "http://127.0.0.1:8000", since: new Date(0) };

/** A record read that is empty `emptyReads` times, then holds the leader. */
function recordAfter(emptyReads: number): { read: () => Promise<LeaderInfo | undefined>; reads: () => number } {
  let reads = 0;
  return { read: async () => (++reads > emptyReads ? LEADER : undefined), reads: () => reads };
}

describe("recordedLeader: a standby starting beside a new leader", () => {
  it("looks again while the leader has taken its lock but not yet recorded its addresses", async () => {
    const record = recordAfter(3);
    expect(await recordedLeader(record.read, 5_000, 1)).toEqual(LEADER);
    expect(record.reads()).toBe(4);
  });

  it("answers at once when the leader is recorded", async () => {
    const record = recordAfter(0);
    expect(await recordedLeader(record.read, 5_000, 1)).toEqual(LEADER);
    expect(record.reads()).toBe(1);
  });

  it("gives up after its wait when nobody records itself (bounded reads)", async () => {
    const record = recordAfter(Number.POSITIVE_INFINITY);
    expect(await recordedLeader(record.read, 30, 5)).toBeUndefined();
    expect(record.reads()).toBeGreaterThanOrEqual(2);
    expect(record.reads()).toBeLessThanOrEqual(30 / 5 + 1);
  });
});
