import { fromBinary } from "@bufbuild/protobuf";
import { Client, TaskFailedError, type TaskHandle } from "../../index.js";
import { GrpcConnection } from "../../common/transport/grpc-client.js";
import { Code, ConnectError } from "../../common/errors.js";
import { SubmitResponseSchema, TaskService } from "../../gen/fastworker/v1/task_service_pb.js";
import { ConnectSurface } from "./connect-surface.js";
import { floods } from "./floods.js";
import { GrpcSurface, grpcTargets } from "./grpc-surface.js";
import { generatedServices } from "./services.js";
import { oversize } from "./oversize.js";
import { Random } from "../helpers/random.js";
import { ServerProcess } from "./server-process.js";
import { slowReaders } from "./slow-readers.js";
import { pool, Tally } from "./tally.js";
import { udpBeacons } from "./udp.js";

/** Options for {@link runAbuse}. */
export interface AbuseOptions {
  /** Random inputs in all (gRPC, Connect, UDP), besides the fixed scenarios (oversize, slow readers, floods). */
  inputs: number;
  seed: number;
  /** The control plane's peak resident memory must stay under this. */
  maxPeakRssBytes: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What an abuse run found. */
export interface AbuseReport {
  tally: Tally;
  seed: number;
  baselineRss: number;
  peakRss: number;
  finalRss: number;
  durationMs: number;
  /** Acknowledged tasks checked at the end (canary submissions and fuzzed Submits that were answered OK). */
  acknowledged: number;
  /** Everything that must not happen; empty when the run passed. */
  problems: string[];
}

/**
 * Runs the abuse suite against a real fw-server (from dist/, durable, with an
 * embedded worker) and says what it saw. The server must end alive and
 * serving (a normal submit → result), under the RSS bound, with every
 * request answered precisely (no INTERNAL, UNKNOWN or 500 for bad input),
 * no error in its log, and every acknowledged task still there.
 */
export async function runAbuse(options: AbuseOptions): Promise<AbuseReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const tally = new Tally();
  const problems: string[] = [];
  const server = await ServerProcess.start([
    "--tasks", "test/fixtures/basic-tasks.mjs",
    "--max-results", "10000000",
    "--heartbeat-interval", "0.5",
    "--lease-timeout", "3",
    "--timeout-grace", "5",
  ]);
  log(`fw-server ${server.grpc} ${server.http} (pid ${server.pid})`);
  const baselineRss = server.memory().rss;
  const client = new Client({ server: server.grpc });
  const canary = startCanary(client);
  const okIds: string[] = [];
  try {
    log("oversize and deep payloads");
    await oversize(server.grpc, server.http, tally);
    log("slow readers");
    const closeWatches = await slowReaders(server, tally, log);

    const rand = new Random(options.seed);
    const udpCount = Math.round(options.inputs * 0.1);
    const grpcCount = Math.round(options.inputs * 0.55);
    const connectCount = options.inputs - udpCount - grpcCount;
    log(`fuzzing: ${grpcCount} gRPC, ${connectCount} Connect, ${udpCount} UDP inputs (seed ${options.seed})`);
    const services = await generatedServices();
    const grpcSurface = new GrpcSurface(server.grpc, 4, grpcTargets([...services.fastworker, ...services.other]));
    const connectSurface = new ConnectSurface(server.http, services.fastworker);
    const grpcRand = new Random(rand.int(0, 2 ** 31));
    const connectRand = new Random(rand.int(0, 2 ** 31));
    const progress = setInterval(() => log(`  ${tally.inputs} inputs, rss ${mib(server.memory().rss)}`), 5000).unref();
    const keepId = (path: string, response: Buffer): void => {
      if (path === "/fastworker.v1.TaskService/Submit" && okIds.length < 5000) okIds.push(fromBinary(SubmitResponseSchema, response).id);
    };
    try {
      await Promise.all([
        pool(grpcCount, 32, (i) => grpcSurface.send(grpcRand, i, tally, keepId)),
        pool(connectCount, 16, () => connectSurface.send(connectRand, tally)),
        udpBeacons(new Random(rand.int(0, 2 ** 31)), udpCount, tally),
      ]);
    } finally {
      clearInterval(progress);
      grpcSurface.close();
    }
    log("stream floods");
    await floods(server.grpc, tally);
    await closeWatches();

    log("checking: alive, serving, nothing acknowledged lost");
    // A fuzzed PauseTaskName is an operator's act: resume what it paused, so what is checked is loss, not a pause.
    await resumePaused(client).catch(() => undefined);
    if (!server.running) problems.push("the control plane died");
    const value = await client.run("add", { a: 1, b: 2 }, { timeoutMs: 30_000 }).catch((err: unknown) => err);
    if (value !== 3) problems.push(`a normal submit → result did not work after the run: ${String(value)}`);
    const handles = await canary.stop();
    const lostCanaries = await missingResults(handles);
    if (lostCanaries.length > 0) problems.push(`${lostCanaries.length} acknowledged canary tasks did not finish: ${lostCanaries.slice(0, 5).join("; ")}`);
    const lostIds = await missingTasks(server.grpc, okIds);
    if (lostIds.length > 0) problems.push(`${lostIds.length} tasks acknowledged to the fuzzer are gone: ${lostIds.slice(0, 5).join(", ")}`);
    const memory = server.memory();
    if (memory.peak > options.maxPeakRssBytes) problems.push(`peak RSS ${mib(memory.peak)} passed the bound of ${mib(options.maxPeakRssBytes)}`);
    if (tally.failureCount > 0) problems.push(`${tally.failureCount} requests got an answer bad input must never get (first: ${JSON.stringify(tally.failures[0])})`);
    const overflows = server.logLines.filter((line) => line.includes("TimeoutOverflowWarning"));
    if (overflows.length > 0) problems.push(`${overflows.length} timers were set past 2^31 ms (they fire at once): ${overflows[0]}`);
    const errors = server.errors();
    if (errors.length > 0) problems.push(`${errors.length} error lines in the control plane's log, first: ${errors[0]}`);
    await client.close();
    const exit = await server.stop();
    if (exit !== 0) problems.push(`fw-server exited ${exit} on SIGTERM; its last log lines:\n    ${server.logLines.filter((l) => !/TimeoutOverflowWarning|Timeout duration was set/.test(l)).slice(-30).join("\n    ")}`);
    return {
      tally,
      seed: options.seed,
      baselineRss,
      peakRss: memory.peak,
      finalRss: memory.rss,
      durationMs: Date.now() - started,
      acknowledged: handles.length + okIds.length,
      problems,
    };
  } catch (err) {
    await client.close();
    await server.stop();
    throw err;
  }
}

/**
 * Submits a canary task (an echo) every 20 ms through the Client library
 * until stopped; every acknowledged one must finish. Its task name is one the
 * fuzzer does not use: fuzzed requests may pause a name or cancel every task
 * a filter matches (operators' acts, not losses).
 */
function startCanary(client: Client): { stop(): Promise<TaskHandle[]> } {
  const handles: TaskHandle[] = [];
  const pending: Promise<unknown>[] = [];
  let n = 0;
  const timer = setInterval(() => {
    const i = n++;
    pending.push(client.submit("canary", { canary: i }).then((h) => handles.push(h), () => undefined));
  }, 20);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return handles;
    },
  };
}

async function missingResults(handles: TaskHandle[]): Promise<string[]> {
  const missing: string[] = [];
  await Promise.all(handles.map(async (h) => {
    const result = await h.result({ timeoutMs: 60_000 }).catch((err: unknown) => err);
    if (typeof result === "object" && result !== null && "canary" in result) return;
    // Cancelled by a fuzzed CancelTasks that hit the exact count of an empty filter: finished, not lost.
    if (result instanceof TaskFailedError && result.state === "cancelled") return;
    missing.push(`${h.id}: ${String(result)}`);
  }));
  return missing;
}

async function resumePaused(client: Client): Promise<void> {
  const { names } = await client.taskNames();
  for (const n of names) if (n.paused) await client.resumeTaskName(n.name);
}

async function missingTasks(address: string, ids: string[]): Promise<string[]> {
  const connection = new GrpcConnection({ address });
  const tasks = connection.service(TaskService);
  const missing: string[] = [];
  try {
    await pool(ids.length, 16, async (i) => {
      await tasks.getTask({ id: ids[i]! }).catch((err: unknown) => {
        if (!(err instanceof ConnectError) || err.code === Code.NotFound) missing.push(ids[i]!);
      });
    });
  } finally {
    connection.close();
  }
  return missing;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** The report as a table: inputs and statuses per surface, then memory and what failed. */
export function formatReport(report: AbuseReport): string {
  const rows = [...report.tally.surfaces.entries()].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([name]) => name.length), 7);
  const lines = [`${"surface".padEnd(width)}  ${"inputs".padStart(7)}  statuses seen`];
  for (const [name, t] of rows) {
    const statuses = [...t.statuses.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`).join(", ");
    lines.push(`${name.padEnd(width)}  ${String(t.inputs).padStart(7)}  ${statuses}`);
  }
  lines.push(`${"total".padEnd(width)}  ${String(report.tally.inputs).padStart(7)}`);
  lines.push("");
  lines.push(`control plane RSS: ${mib(report.baselineRss)} at start, peak ${mib(report.peakRss)}, ${mib(report.finalRss)} at the end; ${report.acknowledged} acknowledged tasks checked; seed ${report.seed}; ${(report.durationMs / 1000).toFixed(0)} s`);
  lines.push(report.problems.length === 0 ? "PASS: alive and serving, every answer precise, nothing acknowledged lost" : `FAIL:\n  ${report.problems.join("\n  ")}`);
  for (const f of report.tally.failures.slice(0, 10)) lines.push(`  ${f.surface}: ${f.status} for ${f.input.slice(0, 300)}`);
  return lines.join("\n");
}
