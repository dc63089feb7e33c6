// Micro-benchmark, not used by default runs: what flow limits cost the dispatcher.
//   npm run build && node bench/experiments/limited-dispatch.mjs
// One control plane in memory (no sockets): 4 workers of concurrency 1,000, each serving 1,001
// names. 1,000 names have `concurrency: 1` and 100 queued tasks each (100,000 tasks held back once
// each name has one running); one name ("free") is unlimited. Rounds are timed around
// Dispatcher.runOnce, the dispatch round itself:
//  - free:      100 free tasks submitted per round, behind the 99,000 held-back limited tasks;
//  - unpark:    100 limited tasks end per round (100 lanes unpark), the round starts 100 others;
//  - idle:      a round with nothing takeable (every lane parked);
//  - baseline:  the free rounds again on a control plane whose 1,000 other names are unlimited
//               and have nothing queued (what a round cost before limits existed);
//  - busy:      no limits, the 1,000 names with 100 queued each, 100 of their tasks end and 100
//               start per round (every name takeable: each take compares 1,000 heads).
// Prints the median µs per round and per assignment of 9 alternating runs of 200 rounds.
import { create } from "@bufbuild/protobuf";
import { FlowLimitSchema } from "../../dist/gen/fastworker/v1/limit_pb.js";
import { AttemptOutcome } from "../../dist/gen/fastworker/v1/task_pb.js";
import { ReportResultsRequestSchema, TaskDefinitionSchema } from "../../dist/gen/fastworker/v1/worker_service_pb.js";
import { AsyncQueue } from "../../dist/common/async-queue.js";
import { engineConfig } from "../../dist/server/engine/config.js";
import { ControlPlane } from "../../dist/server/engine/control-plane.js";
import { NO_OPTIONS } from "../../dist/server/store/task-record.js";

const NAMES = 1000;
const BACKLOG = 100;
const PER_ROUND = 100;
const ROUNDS = 200;

/** A dispatch stream that drops what it is sent (the bench times the round, not the wire). */
class Sink extends AsyncQueue {
  push() {}
}

function setup(limited, backlog = limited) {
  const plane = new ControlPlane(engineConfig({ maxResults: 1_000_000 }));
  const names = Array.from({ length: NAMES }, (_, i) => `limited-${i}`);
  const definitions = [
    ...names.map((name) => create(TaskDefinitionSchema, { name, ...(limited ? { limit: create(FlowLimitSchema, { concurrency: 1 }) } : {}) })),
    create(TaskDefinitionSchema, { name: "free" }),
  ];
  const workers = [1, 2, 3, 4].map((i) => {
    const { worker: w } = plane.register({ name: `w${i}`, host: "h", pid: i, version: "b", concurrency: 1000, names: definitions.map((d) => d.name) }, definitions, 0);
    plane.attach(w, new Sink(), undefined, undefined, 0);
    return w;
  });
  const submit = (name) => plane.submit({ name, argsJson: "{}", priority: 0, delayMs: 0, options: NO_OPTIONS }, 0).task;
  if (backlog) for (const name of names) for (let i = 0; i < BACKLOG; i++) submit(name);
  plane.dispatcher.runOnce(0); // one of each limited name starts and every limited lane parks (unlimited: 4,000 start)
  const finish = (tasks) => {
    const byWorker = new Map();
    for (const t of tasks) {
      const a = t.currentAttempt;
      if (!byWorker.has(a.workerId)) byWorker.set(a.workerId, []);
      byWorker.get(a.workerId).push({ taskId: t.id, attempt: a.number, outcome: AttemptOutcome.SUCCEEDED, resultJson: "null" });
    }
    for (const [id, results] of byWorker) plane.report(plane.worker(id), create(ReportResultsRequestSchema, { results }), 0);
  };
  const running = () => workers.flatMap((w) => [...w.inflight].map((a) => a.task));
  return { plane, names, submit, finish, running };
}

function timeRounds(label, env, prepare) {
  let total = 0;
  let assigned = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const after = prepare(env);
    const t0 = process.hrtime.bigint();
    assigned += env.plane.dispatcher.runOnce(0);
    total += Number(process.hrtime.bigint() - t0) / 1000;
    after?.();
  }
  return { label, perRound: total / ROUNDS, perAssignment: assigned === 0 ? NaN : total / assigned, assigned: assigned / ROUNDS };
}

const freeRound = (env) => {
  const tasks = Array.from({ length: PER_ROUND }, () => env.submit("free"));
  return () => env.finish(tasks);
};
const unparkRound = (env) => {
  // End the running task of 100 limited names (rotating), so 100 lanes unpark.
  const running = env.running().filter((t) => t.name !== "free").slice(0, PER_ROUND);
  env.finish(running);
};
const idleRound = () => undefined;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const results = new Map();
for (let run = 0; run < 9; run++) {
  const limited = setup(true);
  const baseline = setup(false);
  const busy = setup(false, true);
  for (const r of [
    timeRounds("free (1,000 limited names parked)", limited, freeRound),
    timeRounds("unpark 100 lanes, start 100", limited, unparkRound),
    timeRounds("idle (every lane parked)", limited, idleRound),
    timeRounds("baseline: free, no limits", baseline, freeRound),
    timeRounds("busy: 1,000 unlimited names queued", busy, unparkRound),
  ]) {
    if (!results.has(r.label)) results.set(r.label, []);
    results.get(r.label).push(r);
  }
}
console.log(`node ${process.version}; ${NAMES} names x ${BACKLOG} queued, ${PER_ROUND} per round, ${ROUNDS} rounds x 9 runs (medians)`);
for (const [label, runs] of results) {
  console.log(
    `${label.padEnd(36)} ${median(runs.map((r) => r.perRound)).toFixed(1).padStart(8)} µs/round  ${median(runs.map((r) => r.perAssignment)).toFixed(2).padStart(7)} µs/assignment  (${median(runs.map((r) => r.assigned)).toFixed(0)} assignments/round)`,
  );
}
