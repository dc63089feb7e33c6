import { describe, expect, it } from "vitest";
import { formatReport, runAbuse } from "./abuse/abuse.js";

// The abuse suite, short: the same surfaces as `npm run fuzz` (test/abuse/main.ts, 120,000 inputs by
// default) with a few thousand random inputs and every fixed scenario (oversize and deep payloads,
// slow readers, stream floods, UDP at a beacon listener). It fails on any answer bad input must never
// get, a dead or unresponsive control plane, an acknowledged task gone, or RSS past its bound.

describe("abuse suite (short run)", () => {
  it("leaves the control plane alive, serving, precise and within its memory bound", { timeout: 180_000 }, async () => {
    const report = await runAbuse({ inputs: 3000, seed: 20_261_126, maxPeakRssBytes: 768 * 1024 * 1024 });
    expect(report.problems, formatReport(report)).toEqual([]);
    // Each surface was reached.
    const services = ["TaskService", "WorkerService", "AdminService", "ScheduleService", "LimitService"].map((s) => `fastworker.v1.${s}`);
    for (const surface of [...services.map((s) => `grpc ${s}`), ...services.map((s) => `connect ${s}`), "grpc grpc.health.v1.Health", "oversize and deep", "slow readers", "stream floods", "udp beacons"]) {
      expect(report.tally.surfaces.get(surface)?.inputs ?? 0, surface).toBeGreaterThan(0);
    }
  });
});
