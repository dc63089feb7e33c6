import { describe, expect, it } from "vitest";
import { cronTiming, intervalTiming } from "./schedule-timing.js";

const at = (iso: string): number => Date.parse(iso);
const ticks = (timing: ReturnType<typeof cronTiming>, from: string, n: number): string[] => {
  const out: string[] = [];
  for (let t = timing.next(at(from)); out.length < n; t = timing.next(t)) out.push(new Date(t).toISOString());
  return out;
};

describe("schedule timing (croner, time zones, DST)", () => {
  it("fires a daily 03:00 Europe/Paris at the right instants across the spring DST change", () => {
    // 2026-03-29: Paris goes from CET (UTC+1) to CEST (UTC+2) at 02:00 local.
    expect(ticks(cronTiming("0 3 * * *", "Europe/Paris"), "2026-03-27T12:00:00Z", 4)).toEqual([
      "2026-03-28T02:00:00.000Z", // 03:00 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST, the day of the change
      "2026-03-30T01:00:00.000Z",
      "2026-03-31T01:00:00.000Z",
    ]);
  });

  it("runs a local time the spring change skips at the end of the gap, once", () => {
    // 02:30 does not exist on 2026-03-29 in Paris (02:00 → 03:00): it runs at 03:00 CEST.
    expect(ticks(cronTiming("30 2 * * *", "Europe/Paris"), "2026-03-28T12:00:00Z", 3)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
      "2026-03-31T00:30:00.000Z",
    ]);
  });

  it("runs a local time the autumn change repeats once, and an hourly schedule once per real hour", () => {
    // 2026-10-25: Paris goes back from CEST to CET at 03:00 local; 02:00-03:00 happens twice.
    expect(ticks(cronTiming("30 2 * * *", "Europe/Paris"), "2026-10-24T12:00:00Z", 2)).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    expect(ticks(cronTiming("0 * * * *", "Europe/Paris"), "2026-10-24T23:30:00Z", 4)).toEqual([
      "2026-10-25T00:00:00.000Z", // 02:00 CEST
      "2026-10-25T01:00:00.000Z", // 02:00 CET (the repeated hour)
      "2026-10-25T02:00:00.000Z", // 03:00 CET
      "2026-10-25T03:00:00.000Z",
    ]);
  });

  it("follows a US zone's own change dates (America/New_York, 2026-03-08)", () => {
    expect(ticks(cronTiming("0 9 * * 1-5", "America/New_York"), "2026-03-05T00:00:00Z", 3)).toEqual([
      "2026-03-05T14:00:00.000Z", // Thu 09:00 EST
      "2026-03-06T14:00:00.000Z", // Fri
      "2026-03-09T13:00:00.000Z", // Mon 09:00 EDT
    ]);
  });

  it("defaults to UTC, takes six fields with seconds, and is strictly after the given time", () => {
    const daily = cronTiming("0 3 * * *", undefined);
    expect(daily.next(at("2026-01-01T03:00:00Z"))).toBe(at("2026-01-02T03:00:00Z"));
    expect(cronTiming("*/10 * * * * *", "UTC").next(at("2026-01-01T00:00:05Z"))).toBe(at("2026-01-01T00:00:10Z"));
  });

  it("refuses bad expressions and time zones, saying what is wrong", () => {
    expect(() => cronTiming("61 * * * *", "UTC")).toThrow(/minute/);
    expect(() => cronTiming("* * *", "UTC")).toThrow(/3 fields/);
    expect(() => cronTiming("0 3 * * *", "Mars/Olympus")).toThrow(/unknown time zone/);
  });

  it("aligns intervals to multiples since the epoch, and refuses ones under a second", () => {
    const every5m = intervalTiming(300_000);
    expect(every5m.next(at("2026-01-01T00:01:00Z"))).toBe(at("2026-01-01T00:05:00Z"));
    expect(every5m.next(at("2026-01-01T00:05:00Z"))).toBe(at("2026-01-01T00:10:00Z"));
    expect(() => intervalTiming(500)).toThrow(/at least 1s/);
  });

  it("refuses intervals past 366 days (found by the abuse suite: a tick 2^62 s away could not be written, and every listing failed)", () => {
    expect(() => intervalTiming(366 * 86_400_000)).not.toThrow();
    expect(() => intervalTiming(367 * 86_400_000)).toThrow(/at most 366 days/);
    expect(() => intervalTiming(2 ** 62 * 1000)).toThrow(/at most 366 days/);
  });
});
