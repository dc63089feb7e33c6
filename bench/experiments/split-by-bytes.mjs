// Micro-benchmark, not used by default runs: the cost of cutting stream
// messages at 4 MiB on the hot path, before and after common/split-by-bytes.ts.
//   npm run build && node bench/experiments/split-by-bytes.mjs
// "before" is the loop the four call sites had (UTF-16 length as the size,
// one inline loop each); "after" is countByBytes()/splitByBytes() with the
// budgets the call sites use now (bytes: length × 3 until near the limit,
// metadata counted). Ordinary batches (small ASCII args, a few to 10,000 per
// message) never come near the limit, so neither side counts exact bytes.
// Prints the median ns per item of 9 alternating rounds.
import { countByBytes, mapBytes, splitByBytes, MAX_MESSAGE_BYTES } from "../../dist/common/split-by-bytes.js";

const outcomeBudget = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (o, text) =>
    text(o.resultJson) + (o.error === undefined ? 0 : text(o.error.stack) + text(o.error.message)) + (o.lookupError === undefined ? 0 : text(o.lookupError.message)) + 64,
};
const resultBudget = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (r, text) => text(r.resultJson) + (r.error === undefined ? 0 : text(r.error.stack) + text(r.error.message)) + 64,
};
const assignmentBudget = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (a, text) => text(a.argsJson) + text(a.task) + mapBytes(a.metadata, text) + 128,
};
const submitBudget = {
  maxBytes: MAX_MESSAGE_BYTES,
  bytesOf: (p, text) => text(p.request.argsJson ?? "") + text(p.request.task ?? "") + text(p.request.idempotencyKey ?? "") + mapBytes(p.request.metadata, text) + 64,
};

// The loops as they were (server/services/session.ts, server/engine/worker-session.ts, worker/reporter.ts, client/session.ts).
function outcomesBefore(outcomes, push) {
  let start = 0;
  let bytes = 0;
  let first = true;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    const size = o.resultJson.length + (o.error?.stack.length ?? 0) + (o.error?.message.length ?? 0) + 64;
    if (i > start && bytes + size > MAX_MESSAGE_BYTES) {
      push(outcomes.slice(start, i), first);
      first = false;
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (first || start < outcomes.length) push(start === 0 ? outcomes : outcomes.slice(start), first);
}
function assignmentsBefore(assignments, push) {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < assignments.length; i++) {
    const size = assignments[i].argsJson.length + 128;
    if (i > start && bytes + size > MAX_MESSAGE_BYTES) {
      push(assignments.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  push(start === 0 ? assignments : assignments.slice(start));
}
function resultsBefore(results) {
  let bytes = 0;
  let n = 0;
  for (; n < results.length; n++) {
    const r = results[n];
    const size = r.resultJson.length + (r.error?.stack.length ?? 0) + (r.error?.message.length ?? 0) + 64;
    if (n > 0 && bytes + size > MAX_MESSAGE_BYTES) break;
    bytes += size;
  }
  return n;
}
function submitsBefore(queue, room) {
  let count = 0;
  let bytes = 0;
  while (count < queue.length && count < room) {
    const next = queue[count].bytes;
    if (count > 0 && bytes + next > MAX_MESSAGE_BYTES) break;
    bytes += next;
    count++;
  }
  return count;
}

// The same call shapes after.
function outcomesAfter(outcomes, push) {
  const chunks = splitByBytes(outcomes, outcomeBudget);
  for (let i = 0; i < chunks.length; i++) push(chunks[i], i === 0);
}
function assignmentsAfter(assignments, push) {
  const chunks = splitByBytes(assignments, assignmentBudget);
  for (let i = 0; i < chunks.length; i++) push(chunks[i]);
}
const resultsAfter = (results) => countByBytes(results, 0, resultBudget);
const submitsAfter = (queue, room) => countByBytes(queue, 0, submitBudget, room);

let sink = 0;
const push = (chunk) => {
  sink += chunk.length;
};
const make = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const outcome = (i) => ({ id: `t-${i}`, resultJson: String(i), error: undefined, lookupError: undefined });
const assignment = (i) => ({ taskId: `t-${i}`, task: "noop", argsJson: `{"i":${i}}`, metadata: i % 2 ? {} : { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
const submit = (i) => {
  const request = { task: "noop", argsJson: `{"i":${i}}`, idempotencyKey: "", metadata: {} };
  return { request, bytes: request.argsJson.length };
};

const cases = [];
for (const n of [1, 16, 256, 10_000]) {
  const outcomes = make(n, outcome);
  const assignments = make(n, assignment);
  const submits = make(n, submit);
  cases.push(
    { name: `session outcomes ×${n}`, n, before: () => outcomesBefore(outcomes, push), after: () => outcomesAfter(outcomes, push) },
    { name: `dispatch assignments ×${n}`, n, before: () => assignmentsBefore(assignments, push), after: () => assignmentsAfter(assignments, push) },
    { name: `reporter results ×${n}`, n, before: () => (sink += resultsBefore(outcomes)), after: () => (sink += resultsAfter(outcomes)) },
    { name: `client submits ×${n}`, n, before: () => (sink += submitsBefore(submits, 10_000)), after: () => (sink += submitsAfter(submits, 10_000)) },
  );
}

function time(fn, items) {
  const iterations = Math.max(1, Math.round(2_000_000 / items));
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < iterations; k++) fn();
  return Number(process.hrtime.bigint() - t0) / iterations / items;
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

console.log("case                          before ns/item  after ns/item");
for (const c of cases) {
  time(c.before, c.n);
  time(c.after, c.n); // warm up both
  const before = [];
  const after = [];
  for (let round = 0; round < 9; round++) {
    before.push(time(c.before, c.n));
    after.push(time(c.after, c.n));
  }
  console.log(`${c.name.padEnd(30)}${median(before).toFixed(2).padStart(14)}${median(after).toFixed(2).padStart(15)}`);
}
if (sink === 42) console.log("");
