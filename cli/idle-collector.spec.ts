import { describe, expect, it } from "vitest";
import { silentLogger } from "../common/logger.js";
import { IdleCollector } from "./idle-collector.js";

const MiB = 2 ** 20;

function setup() {
  let collections = 0;
  const collector = new IdleCollector({
    collect: async () => {
      collections++;
    },
    logger: silentLogger(),
    idleCpuShare: 0.02,
    growthBytes: 32 * MiB,
    minIntervalMs: 30_000,
  });
  return { collector, collections: () => collections };
}

describe("IdleCollector", () => {
  it("collects once the window is idle and the RSS grew, never while busy", async () => {
    const { collector, collections } = setup();
    expect(await collector.runOnce({ now: 0, cpuMicros: 0, rssBytes: 70 * MiB })).toBe(false);
    // Busy (1 s of CPU in 2 s) and grown: not now.
    expect(await collector.runOnce({ now: 2000, cpuMicros: 1_000_000, rssBytes: 300 * MiB })).toBe(false);
    // Idle (10 ms of CPU in 2 s) and grown: collects.
    expect(await collector.runOnce({ now: 4000, cpuMicros: 1_010_000, rssBytes: 300 * MiB })).toBe(true);
    expect(collections()).toBe(1);
  });

  it("leaves an idle process alone when its RSS did not grow enough", async () => {
    const { collector, collections } = setup();
    await collector.runOnce({ now: 0, cpuMicros: 0, rssBytes: 70 * MiB });
    expect(await collector.runOnce({ now: 2000, cpuMicros: 0, rssBytes: 101 * MiB })).toBe(false);
    expect(collections()).toBe(0);
  });

  it("collects at most once per minIntervalMs, measuring growth from after the last collection", async () => {
    const { collector, collections } = setup();
    await collector.runOnce({ now: 0, cpuMicros: 0, rssBytes: 70 * MiB });
    expect(await collector.runOnce({ now: 2000, cpuMicros: 0, rssBytes: 200 * MiB })).toBe(true);
    // The first reading after it is the new baseline (the RSS it left).
    await collector.runOnce({ now: 4000, cpuMicros: 0, rssBytes: 150 * MiB });
    expect(await collector.runOnce({ now: 6000, cpuMicros: 0, rssBytes: 250 * MiB })).toBe(false);
    expect(await collector.runOnce({ now: 34_000, cpuMicros: 0, rssBytes: 250 * MiB })).toBe(true);
    expect(collections()).toBe(2);
  });

  it("reports a failed collection to the caller", async () => {
    const collector = new IdleCollector({
      collect: () => Promise.reject(new Error("no inspector")),
      logger: silentLogger(),
    });
    await collector.runOnce({ now: 0, cpuMicros: 0, rssBytes: 70 * MiB });
    await expect(collector.runOnce({ now: 2000, cpuMicros: 0, rssBytes: 200 * MiB })).rejects.toThrow("no inspector");
  });
});
