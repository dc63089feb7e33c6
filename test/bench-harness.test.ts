import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResultsFile } from "../bench/results-file.js";
import { run } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";

// Proves the benchmark harness works end to end (both systems, every scenario,
// tiny sizes). It never looks at the numbers: timings belong in bench/, not in tests.
describe.skipIf(missing("redis-server"))("bench harness, quick mode", () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "fw-bench-smoke-"));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("runs every scenario on fastworker and BullMQ, prints the table and writes a valid results file", async () => {
    const { code, stdout, stderr } = await run(process.execPath, ["--import", "tsx", "bench/main.ts", "--quick", "--out", out]);
    expect(code, `bench failed:\n${stderr}\n${stdout}`).toBe(0);

    expect(stdout).toContain("## Results");
    expect(stdout).toMatch(/\| scenario\s+\| #\s+\| metric\s+\| unit\s+\| fastworker \| BullMQ \| fw ÷ BullMQ \| better \|/);
    for (const scenario of ["throughput", "per-submit", "latency", "backlog", "workers", "breakdown"]) {
      expect(stdout, `no table row for ${scenario}`).toMatch(new RegExp(`^\\| ${scenario}\\s`, "m"));
    }
    expect(stdout).toContain("## Idle round trip, hop by hop");

    const files = readdirSync(out).filter((f) => /^bench-.*\.json$/.test(f));
    expect(files).toHaveLength(1);
    const results = JSON.parse(readFileSync(join(out, files[0]!), "utf8")) as ResultsFile;
    expect(results.schema).toBe("fastworker-bench/1");
    expect(results.quick).toBe(true);
    expect(results.errors).toEqual([]);
    expect(results.environment.node).toBe(process.version);
    expect(results.environment.redis).toMatch(/^\d+\.\d+/);
    expect(results.environment.bullmq).toBe("6.7.0");
    expect(results.environment.ioredis).toBe("6.0.0");
    expect(results.scenarios.map((s) => s.id)).toEqual(["throughput", "per-submit", "latency", "backlog", "workers", "breakdown"]);
    for (const scenario of results.scenarios) {
      const systems = scenario.id === "breakdown" ? ["fastworker"] : ["fastworker", "bullmq"];
      for (const system of systems) {
        const summary = scenario.summary[system as "fastworker" | "bullmq"];
        expect(summary, `${scenario.id}/${system}`).toMatchObject({ runs: 1, failed: 0 });
        expect(Object.values(summary!.medians).some((v) => typeof v === "number" && v > 0), `${scenario.id}/${system} has numbers`).toBe(true);
      }
    }
    for (const row of results.table) {
      expect(typeof row.fastworker, `${row.scenario} ${row.metric}`).toBe("number");
      if (row.scenario !== "breakdown") expect(typeof row.ratio, `${row.scenario} ${row.metric}`).toBe("number");
    }
    const breakdown = results.scenarios.find((s) => s.id === "breakdown")!.runs[0]!.breakdown!;
    expect(breakdown.used).toBe(breakdown.samples);
    expect(breakdown.hops.map((h) => h.id)).toEqual(["submit-request", "dispatch-wakeup", "dispatch-stream", "result-report", "result-delivery"]);
  }, 120_000);
});
