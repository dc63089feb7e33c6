/**
 * A producer process: waits for one RunMessage on its IPC channel, runs the
 * workload against fastworker or BullMQ, sends its report, and exits.
 */
import { breakdown } from "./breakdown-workload.js";
import { BullmqDriver } from "./bullmq-driver.js";
import type { QueueDriver } from "./driver.js";
import { failover } from "./failover-workload.js";
import { FastworkerDriver } from "./fastworker-driver.js";
import type { ProducerMessage, ProducerReport, RunMessage, StepMessage } from "./protocol.js";
import { scaling, type StepChannel } from "./scaling-workload.js";
import { backlog, latency, throughput, type WorkloadContext } from "./workloads.js";

function send(message: ProducerMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

async function connect(run: RunMessage, sessions = 1): Promise<QueueDriver> {
  return run.target.system === "fastworker" ? new FastworkerDriver(run.target, sessions) : await BullmqDriver.connect(run.target, sessions);
}

/** The step messages that follow the run message (scaling sweeps), in order. */
function stepChannel(): StepChannel {
  const inbox: StepMessage[] = [];
  let waiter: ((step: StepMessage) => void) | undefined;
  process.on("message", (message: StepMessage) => {
    if (message.type !== "step") return;
    if (waiter === undefined) inbox.push(message);
    else {
      const resolve = waiter;
      waiter = undefined;
      resolve(message);
    }
  });
  return {
    next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => (waiter = resolve))),
    report: (report) => send({ type: "step-report", report }),
  };
}

async function execute(run: RunMessage): Promise<ProducerReport> {
  const ctx: WorkloadContext = { mark: (mark) => void send({ type: "mark", mark }), timeoutMs: run.timeoutMs };
  const w = run.workload;
  if (w.kind === "breakdown") {
    if (run.target.system !== "fastworker") throw new Error("the breakdown workload is fastworker only");
    return breakdown(run.target, w, ctx);
  }
  if (w.kind === "failover") {
    if (run.target.system !== "fastworker") throw new Error("the failover workload is fastworker only");
    return failover(run.target, w, ctx);
  }
  const channel = w.kind === "scaling" ? stepChannel() : undefined;
  const driver = await connect(run, w.kind === "scaling" ? w.sessions : 1);
  try {
    if (w.kind === "scaling") return await scaling(driver, w, ctx, channel!);
    if (w.kind === "throughput") return await throughput(driver, w, ctx);
    if (w.kind === "latency") return await latency(driver, w, ctx);
    return await backlog(driver, w, ctx);
  } finally {
    await driver.close();
  }
}

if (!process.send) {
  process.stderr.write("producer-main: start me with an IPC channel (the bench harness does)\n");
  process.exit(2);
}
process.once("message", (message: RunMessage) => {
  execute(message).then(
    async (report) => {
      await send({ type: "report", report });
      process.exit(0);
    },
    async (err: unknown) => {
      await send({ type: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
});
void send({ type: "ready" });
