import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOptions, type BenchOptions } from "../bench/cli-options.js";
import type { ResultsFile, ScalingResultsFile } from "../bench/results-file.js";
import { SWEEP_IDS } from "../bench/scaling/sweeps.js";
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

/**
 * Whether `text` is well-formed XML as the chart writer emits it: elements
 * that nest and close, quoted attributes, escaped text. Answers the first
 * problem, or undefined.
 */
function xmlProblem(text: string): string | undefined {
  const stack: string[] = [];
  let rootSeen = false;
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const between = text.slice(at, m.index);
    if (/[<>]/.test(between)) return `stray markup before offset ${m.index}: ${JSON.stringify(between.slice(0, 80))}`;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(between + m[3]!)) return `an unescaped & near offset ${m.index}`;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? "nothing"}> at offset ${m.index}`;
    } else {
      if (stack.length === 0) {
        if (rootSeen) return `<${name}> after the root element`;
        rootSeen = true;
      }
      if (!selfClosing) stack.push(name!);
    }
    at = m.index + m[0].length;
  }
  if (!rootSeen) return "no element";
  if (text.slice(at).trim() !== "") return "text after the root element";
  if (stack.length > 0) return `unclosed: ${stack.join(" > ")}`;
  return undefined;
}

describe.skipIf(missing("redis-server"))("bench harness, scaling sweeps in quick mode", () => {
  it("runs every sweep on fastworker and BullMQ, prints a table per sweep, and writes a results file and a well-formed SVG chart per sweep", async () => {
    const out = mkdtempSync(join(tmpdir(), "fw-bench-scaling-"));
    try {
      const { code, stdout, stderr } = await run(process.execPath, ["--import", "tsx", "bench/main.ts", "--scaling", "--quick", "--out", out]);
      expect(code, `bench failed:\n${stderr}\n${stdout}`).toBe(0);

      // Progress while it runs (stderr), the tables at the end (stdout).
      for (const phase of ["deploying", "warming up", "closed loop", "paced load at", "done: max"]) expect(stderr, phase).toContain(phase);
      expect(stdout).toContain("## Scaling (median of 1 run per point, QUICK mode");
      expect(stdout).toMatch(/^\| worker connections\s+\| system\s+\| max tasks\/s \|/m);
      expect(stdout).toMatch(/^\| component\s+\| fw-server µs\/task \| fw-worker µs\/task \| producer µs\/task \|/m);
      expect(stdout).toMatch(/^\| task names\s+\| transport .*\| dispatch round \(incl\.\) \| queue take \(incl\.\) \|$/m);

      const files = readdirSync(out);
      const json = files.filter((f) => /^scaling-[\dT-]+Z\.json$/.test(f));
      expect(json).toHaveLength(1);
      const stamp = json[0]!.slice("scaling-".length, -".json".length);
      const results = JSON.parse(readFileSync(join(out, json[0]!), "utf8")) as ScalingResultsFile;
      expect(results.schema).toBe("fastworker-bench-scaling/1");
      expect(results.quick).toBe(true);
      expect(results.errors).toEqual([]);
      expect(results.systems).toEqual(["fastworker", "bullmq"]);
      expect(results.environment.redis).toMatch(/^\d+\.\d+/);
      expect(results.environment.loadAverage).toHaveLength(3);
      expect(results.loadAverageAtEnd).toHaveLength(3);
      expect(results.sweeps.map((s) => s.id)).toEqual([...SWEEP_IDS]);
      for (const sweep of results.sweeps) {
        const systems = sweep.id === "components" ? ["fastworker"] : ["fastworker", "bullmq"];
        expect(sweep.summary.map((p) => `${p.x}/${p.system}`)).toEqual(results.sizes.points[sweep.id].flatMap((x) => systems.map((s) => `${x}/${s}`)));
        for (const point of sweep.summary) {
          const where = `${sweep.id} ${point.x} ${point.system}`;
          expect(point, where).toMatchObject({ runs: 1, failed: 0 });
          expect(point.medians.maxTasksPerSecond, where).toBeGreaterThan(0);
          expect(point.medians.pacedTasksPerSecond, where).toBeGreaterThan(0);
          expect(Number.isFinite(point.medians.p99Ms), where).toBe(true);
          expect(point.medians.brokerCpuUsPerTask, where).toBeGreaterThan(0);
        }
        for (const r of sweep.runs) expect(r.loadAverage, `${sweep.id} ${r.x} ${r.system}`).toHaveLength(3);
      }
      // The names sweep and the components point are profiled: fastworker's CPU by component, the dispatch round within it.
      for (const id of ["names", "components"] as const) {
        for (const point of results.sweeps.find((s) => s.id === id)!.summary.filter((p) => p.system === "fastworker")) {
          expect(point.components?.map((c) => c.role), `${id} ${point.x}`).toEqual(["fw-server", "fw-worker", "producer"]);
          const server = point.components![0]!;
          expect(server.samples).toBeGreaterThan(0);
          expect(Object.values(server.usPerTask).reduce((a, b) => a + b, 0)).toBeCloseTo(server.cpuUsPerTask, 0);
          expect(server.inclusiveUsPerTask.dispatchRound, `${id} ${point.x}: samples inside Dispatcher.runOnce`).toBeGreaterThan(0);
          expect(server.inclusiveUsPerTask.queueTake).toBeLessThanOrEqual(server.inclusiveUsPerTask.dispatchRound);
        }
      }

      // A chart per sweep, under this run's name only (a quick run never replaces the committed scaling-<sweep>.svg).
      expect(files.filter((f) => f.endsWith(".svg")).sort()).toEqual(SWEEP_IDS.map((id) => `scaling-${stamp}-${id}.svg`).sort());
      for (const id of SWEEP_IDS) {
        const svg = readFileSync(join(out, `scaling-${stamp}-${id}.svg`), "utf8");
        expect(xmlProblem(svg), id).toBeUndefined();
        expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
        expect(svg, id).toContain("QUICK MODE");
        expect(svg, id).not.toMatch(/NaN|Infinity|undefined/);
        if (id === "components") {
          expect(svg.match(/<rect [^>]*><title>/g)?.length, "bar segments").toBeGreaterThan(3);
        } else {
          // Panels of max throughput, p99 and broker CPU (+ the dispatch round where profiled): a line per system in each.
          const panels = id === "names" ? 4 : 3;
          expect(svg.match(/<polyline /g), id).toHaveLength(id === "names" ? 3 * 2 + 1 : panels * 2);
          expect(svg.match(/<circle /g), id).toHaveLength(results.sizes.points[id].length * (id === "names" ? 3 * 2 + 1 : panels * 2));
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 400_000);
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

  it("takes the latency warm-up sizes, 0 meaning none (a cold measurement)", () => {
    expect(options([]).sizes).toMatchObject({ latencyBurst: 20_000, latencyWarmup: 5_000 });
    expect(options(["--latency-burst", "0", "--latency-warmup", "0"]).sizes).toMatchObject({ latencyBurst: 0, latencyWarmup: 0 });
    expect(options(["--latency-warmup", "300"]).sizes.latencyWarmup).toBe(300);
    expect(() => options(["--latency-warmup", "-1"])).toThrow(/latency-warmup/);
  });

  it("finds malformed XML (the check above is not vacuous)", () => {
    expect(xmlProblem(`<svg xmlns="x"><g><text>a</text></g></svg>\n`)).toBeUndefined();
    expect(xmlProblem(`<svg><g></svg>`)).toMatch(/closes <g>/);
    expect(xmlProblem(`<svg><text>a < b</text></svg>`)).toMatch(/stray markup/);
    expect(xmlProblem(`<svg><text>a & b</text></svg>`)).toMatch(/unescaped &/);
    expect(xmlProblem(`<svg><g>`)).toMatch(/unclosed/);
    expect(xmlProblem(`<svg></svg><svg></svg>`)).toMatch(/after the root/);
  });

  it("--scaling: sweeps, points and phase lengths; points that cannot be laid out are refused", () => {
    const scaling = options(["--scaling"]).scaling!;
    expect(scaling.sweeps.map((s) => s.id)).toEqual([...SWEEP_IDS]);
    expect(scaling.sizes.points).toMatchObject({ workers: [1, 4, 16, 64], payload: [100, 10_240, 1_048_576], names: [1, 100, 10_000], sessions: [1, 100, 1000] });
    expect(options(["--scaling"]).repeats).toBe(1);
    const names = options(["--scaling", "--sweep", "names", "--points", "1,1000", "--seconds", "2"]).scaling!;
    expect(names.sizes).toMatchObject({ maxSeconds: 2, pacedSeconds: 2, points: { names: [1, 1000] } });
    expect(scaling.sizes).toMatchObject({ pacedRate: 1000, pacedShare: 0.5 });
    expect(options(["--scaling", "--paced-rate", "500", "--paced-share", "0.25"]).scaling!.sizes).toMatchObject({ pacedRate: 500, pacedShare: 0.25 });
    expect(() => options(["--scaling", "--paced-share", "2"])).toThrow(/--paced-share/);
    expect(() => options(["--scaling", "--sweep", "workers", "--points", "6"])).toThrow(/spread evenly over 4 processes/);
    expect(() => options(["--scaling", "--points", "1"])).toThrow(/exactly one --sweep/);
    expect(() => options(["--scaling", "--scenario", "latency"])).toThrow(/--sweep/);
    expect(() => options(["--sweep", "names"])).toThrow(/go with --scaling/);
    expect(() => options(["--scaling", "--sweep", "cpu"])).toThrow(/unknown sweep "cpu"/);
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
