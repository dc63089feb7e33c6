import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOptions, type BenchOptions } from "../bench/cli-options.js";
import type { ResultsFile } from "../bench/results-file.js";
import { scenarioById } from "../bench/scenarios.js";
import { RATIOS, ratiosFor, tableRows } from "../bench/summary.js";
import { SYSTEM_NAMES } from "../bench/systems/system.js";
import { resultTable } from "../bench/table.js";
import { run } from "./helpers/processes.js";
import { missing } from "./helpers/requires.js";

// Proves the benchmark harness works end to end (every system, every scenario,
// tiny sizes). It never looks at the numbers: timings belong in bench/, not in tests.

/** Runs `bench/main.ts` with these options into a fresh directory and answers its output and results file. */
async function bench(args: string[]): Promise<{ stdout: string; results: ResultsFile }> {
  const out = mkdtempSync(join(tmpdir(), "fw-bench-smoke-"));
  try {
    const { code, stdout, stderr } = await run(process.execPath, ["--import", "tsx", "bench/main.ts", ...args, "--out", out]);
    expect(code, `bench failed:\n${stderr}\n${stdout}`).toBe(0);
    const files = readdirSync(out).filter((f) => /^bench-.*\.json$/.test(f));
    expect(files).toHaveLength(1);
    return { stdout, results: JSON.parse(readFileSync(join(out, files[0]!), "utf8")) as ResultsFile };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe.skipIf(missing("redis-server"))("bench harness, quick mode", () => {
  it("runs every scenario on fastworker and BullMQ, prints the table and writes a valid results file", async () => {
    const { stdout, results } = await bench(["--quick"]);

    expect(stdout).toContain("## Results");
    expect(stdout).toMatch(/\| scenario\s+\| #\s+\| metric\s+\| unit\s+\|\s+fastworker \|\s+BullMQ \|\s+fw ÷ BullMQ \| better\s+\|/);
    for (const scenario of ["throughput", "per-submit", "latency", "backlog", "workers", "breakdown"]) {
      expect(stdout, `no table row for ${scenario}`).toMatch(new RegExp(`^\\| ${scenario}\\s`, "m"));
    }
    expect(stdout).not.toMatch(/^\| failover\s/m); // fastworker-pg only
    expect(stdout).toContain("## Idle round trip, hop by hop");

    expect(results.schema).toBe("fastworker-bench/2");
    expect(results.quick).toBe(true);
    expect(results.errors).toEqual([]);
    expect(results.systems).toEqual(["fastworker", "bullmq"]);
    expect(results.ratios.map((r) => r.id)).toEqual(["fastworker/bullmq"]);
    expect(results.environment.node).toBe(process.version);
    expect(results.environment.redis).toMatch(/^\d+\.\d+/);
    expect(results.environment.bullmq).toBe("6.7.0");
    expect(results.environment.ioredis).toBe("6.0.0");
    expect(results.environment.dataRoot.filesystem).toBeTruthy();
    expect(results.scenarios.map((s) => s.id)).toEqual(["throughput", "per-submit", "latency", "backlog", "workers", "breakdown"]);
    for (const scenario of results.scenarios) {
      const systems = scenario.id === "breakdown" ? (["fastworker"] as const) : (["fastworker", "bullmq"] as const);
      for (const system of systems) {
        const summary = scenario.summary[system];
        expect(summary, `${scenario.id}/${system}`).toMatchObject({ runs: 1, failed: 0 });
        expect(Object.values(summary!.medians).some((v) => typeof v === "number" && v > 0), `${scenario.id}/${system} has numbers`).toBe(true);
      }
    }
    for (const row of results.table) {
      expect(typeof row.values.fastworker, `${row.scenario} ${row.metric}`).toBe("number");
      if (row.scenario !== "breakdown") expect(typeof row.ratios["fastworker/bullmq"], `${row.scenario} ${row.metric}`).toBe("number");
    }
    const breakdown = results.scenarios.find((s) => s.id === "breakdown")!.runs[0]!.breakdown!;
    expect(breakdown.used).toBe(breakdown.samples);
    expect(breakdown.hops.map((h) => h.id)).toEqual(["submit-request", "dispatch-wakeup", "dispatch-stream", "result-report", "result-delivery"]);
  }, 180_000);
});

describe.skipIf(missing("redis-server", "postgresql"))("bench harness, --durability (five systems, failover)", () => {
  it("runs throughput on all five systems and a failover on PostgreSQL, with every ratio column, and loses nothing", async () => {
    const { stdout, results } = await bench([
      "--quick", "--durability", "--scenario", "throughput,failover",
      "--tasks", "500", "--warmup", "100", "--failover-tasks", "1000",
    ]);

    expect(stdout).toMatch(
      /\|\s+fastworker \|\s+fw durable \|\s+fw PG \|\s+BullMQ \|\s+BullMQ-AOF \|\s+fw ÷ BullMQ \|\s+durable ÷ in-memory \|\s+durable ÷ BullMQ-AOF \|\s+PG ÷ BullMQ-AOF \| better\s+\|/,
    );
    expect(stdout).toMatch(/^\| failover\s.*kill → standby leading/m);
    expect(results.errors).toEqual([]);
    expect(results.systems).toEqual([...SYSTEM_NAMES]);
    expect(Object.keys(results.systemDescriptions).sort()).toEqual([...SYSTEM_NAMES].sort());
    expect(results.ratios.map((r) => r.id)).toEqual(RATIOS.map((r) => r.id));
    expect(results.environment.postgres?.version).toMatch(/^\d+/);
    // PostgreSQL keeps its own durability in the benchmark (unlike the test helper).
    expect(results.environment.postgres?.settings).toMatchObject({ fsync: "on", synchronous_commit: "on", full_page_writes: "on" });

    const throughput = results.table.find((r) => r.scenario === "throughput" && r.metric === "end-to-end")!;
    for (const system of SYSTEM_NAMES) expect(throughput.values[system], system).toBeGreaterThan(0);
    for (const ratio of RATIOS) expect(throughput.ratios[ratio.id], ratio.id).toBeGreaterThan(0);
    const pgRun = results.scenarios.find((s) => s.id === "throughput")!.runs.find((r) => r.system === "fastworker-pg")!;
    expect(pgRun.usage.database?.cpuSeconds, "PostgreSQL's CPU is measured with fastworker-pg").toBeGreaterThanOrEqual(0);

    const failover = results.scenarios.find((s) => s.id === "failover")!;
    expect(Object.keys(failover.summary)).toEqual(["fastworker-pg"]);
    const metrics = failover.runs[0]!.metrics;
    expect(metrics.lostTasks).toBe(0);
    expect(metrics.unfinishedTasks).toBe(0);
    expect(metrics.leadingMs).toBeGreaterThan(0);
    expect(Number.isFinite(metrics.firstAckMs), "the new leader acknowledged a submission").toBe(true);
    expect(metrics.ackedTasks! + metrics.refusedSubmissions!).toBe(metrics.submittedTasks); // each acknowledged or refused
    expect(metrics.submittedTasks).toBeGreaterThanOrEqual(1000); // --failover-tasks
  }, 180_000);
});

describe("bench harness, options and table", () => {
  const options = (argv: string[]): BenchOptions => parseOptions(argv) as BenchOptions;

  it("defaults to fastworker and BullMQ; --durability selects all five; --system takes any, in table order", () => {
    expect(options([]).systems).toEqual(["fastworker", "bullmq"]);
    expect(options(["--durability"]).systems).toEqual([...SYSTEM_NAMES]);
    expect(options(["--system", "bullmq-aof,fastworker-durable"]).systems).toEqual(["fastworker-durable", "bullmq-aof"]);
    expect(() => options(["--system", "redis"])).toThrow(/unknown system "redis"/);
    expect(() => options(["--durability", "--system", "fastworker"])).toThrow(/--durability/);
    expect(() => options(["--system", "bullmq,bullmq"])).toThrow(/twice/);
  });

  it("shows a ratio column only when both of its systems ran, and a dash where a system has no number", () => {
    expect(ratiosFor(["fastworker", "bullmq"]).map((r) => r.id)).toEqual(["fastworker/bullmq"]);
    expect(ratiosFor(["fastworker-durable", "bullmq-aof"]).map((r) => r.id)).toEqual(["durable/bullmq-aof"]);
    const systems = ["fastworker", "fastworker-durable", "bullmq-aof"] as const;
    const ratios = ratiosFor(systems);
    const median = (tasksPerSecond: number) => ({ runs: 1, failed: 0, medians: { tasksPerSecond, submittedPerSecond: tasksPerSecond } });
    const rows = tableRows(scenarioById("throughput"), { fastworker: median(1000), "fastworker-durable": median(800), "bullmq-aof": median(400) }, ratios);
    expect(rows[0]).toMatchObject({ values: { fastworker: 1000, "fastworker-durable": 800, "bullmq-aof": 400 }, ratios: { "durable/in-memory": 0.8, "durable/bullmq-aof": 2 } });
    const table = resultTable(rows, systems, ratios).split("\n");
    expect(table[0]).toMatch(/\| fastworker \| fw durable \| BullMQ-AOF \| durable ÷ in-memory \| durable ÷ BullMQ-AOF \| better \|$/);
    expect(table[2]).toMatch(/\|\s+1,000 \|\s+800 \|\s+400 \|\s+0\.80× \|\s+2\.00× \| higher \|$/);
    const failover = tableRows(scenarioById("failover"), { "fastworker-pg": { runs: 1, failed: 0, medians: { leadingMs: 120.5, firstAckMs: 300, lostTasks: 0, refusedSubmissions: 12 } } }, []);
    expect(resultTable(failover, ["fastworker-pg"], [])).toMatch(/acknowledged tasks lost\s+\| tasks \|\s+0 \| lower/);
  });
});
