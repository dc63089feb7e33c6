// Micro-benchmark, not used by default runs: spelling a task id from its creation order
// (TaskIds.format, three times per task: acceptance, assignment, outcome) and reading it back
// (TaskIds.orderOf, for every report and every lookup by id), before and after
// server/store/task-ids.ts kept the ids' heads and read ids digit by digit.
//   npm run build && node bench/experiments/task-ids.mjs
// "before" is each method as it was (toString and padStart; a slice, a regular expression and
// parseInt); "after" is the built TaskIds. Spelling interleaves three runs of neighbouring orders, as
// the three call sites do, and each id is written to a buffer (as the encoder does, which flattens
// it). The ids read back are fresh flat strings, as a message decoder makes them. Prints the median
// ns per id of 9 alternating rounds of 100,000 ids.
import { TaskIds } from "../../dist/server/store/task-ids.js";

const PREFIX_LENGTH = 10;
const COUNTER_LENGTH = 7;
const COUNTER = /^[0-9a-z]{7,}$/;
const ids = new TaskIds();
const prefix = ids.format(0).slice(0, PREFIX_LENGTH);

/** TaskIds.orderOf before: the counter sliced off, tested with a regular expression, parsed by parseInt. */
function orderBefore(id) {
  if (id.length < PREFIX_LENGTH + COUNTER_LENGTH || !id.startsWith(prefix)) return undefined;
  const counter = id.slice(PREFIX_LENGTH);
  if (!COUNTER.test(counter)) return undefined;
  const order = parseInt(counter, 36);
  return counter.length === COUNTER_LENGTH || ids.format(order) === id ? order : undefined;
}
const orderAfter = (id) => ids.orderOf(id);
/** TaskIds.format before. */
const formatBefore = (order) => prefix + order.toString(36).padStart(COUNTER_LENGTH, "0");
const formatAfter = (order) => ids.format(order);

const spelled = Array.from({ length: 100_000 }, (_, i) => Buffer.from(ids.format(1_000_000 + i)).toString("latin1"));
for (const id of spelled.slice(0, 1000)) if (orderBefore(id) !== orderAfter(id)) throw new Error(`the two disagree on ${id}`);
const orders = Array.from({ length: 100_000 }, (_, i) => [2_000_000, 1_000_000, 1_500_000][i % 3] + Math.floor(i / 3));
for (const order of orders.slice(0, 1000)) if (formatBefore(order) !== formatAfter(order)) throw new Error(`the two spell ${order} differently`);
const buffer = Buffer.alloc(64);

const cases = {
  "orderOf before": () => spelled.reduce((sum, id) => sum + orderBefore(id), 0),
  "orderOf after": () => spelled.reduce((sum, id) => sum + orderAfter(id), 0),
  "format before": () => orders.reduce((sum, order) => sum + buffer.write(formatBefore(order), "latin1"), 0),
  "format after": () => orders.reduce((sum, order) => sum + buffer.write(formatAfter(order), "latin1"), 0),
};
const rounds = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < 9; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const started = performance.now();
    if (run() === 0) throw new Error("nothing done");
    rounds[name].push(((performance.now() - started) * 1e6) / 100_000);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, times] of Object.entries(rounds)) console.log(`${name}: ${median(times).toFixed(0)} ns per id`);
