import { Client, Code, ConnectError } from "fastworker";
import { TASK_NAME } from "./driver.js";
import { wallNow, type FailoverReport, type FailoverWorkload, type FastworkerTarget } from "./protocol.js";
import { bounded, sleep } from "./waits.js";
import type { WorkloadContext } from "./workloads.js";

/** Submissions go out on a timer of this period, as many as the rate says are due. */
const TICK_MS = 10;
/** At most this many seconds' worth of submissions wait for acceptance (they pile up while no control plane leads). */
const BACKLOG_SECONDS = 10;

/** The random prefix of a control plane's task ids (server/store/task-ids.ts). */
const ID_PREFIX_LENGTH = 10;

/** Distinct refusal messages counted (the total is always complete). */
const MAX_REASONS = 10;

interface Ack {
  id: string;
  /** Wall-clock ms when the producer heard. */
  at: number;
}

/**
 * Steady load through a failover (fastworker on PostgreSQL): submit at a
 * fixed rate to a group of control planes with one Client given all their
 * addresses (it follows the leader), tell the harness to kill the leader once
 * `killAfter` submissions were acknowledged, keep submitting through the
 * failover (at least `tasks` in all, and until the new leader acknowledged
 * one), wait for every acknowledged task's result, then look up every
 * acknowledged id on the new leader alone. Refused submissions (UNAVAILABLE
 * while nobody leads) are counted, not retried: they were never acknowledged.
 *
 * Which control plane acknowledged a task is told by its id: a control plane
 * draws a random {@link ID_PREFIX_LENGTH}-character prefix for its ids when
 * it starts (server/store/task-ids.ts), so the new leader's ids do not
 * begin like the old leader's. If every id acknowledged before the kill does
 * not share one prefix, the id format changed and the run fails saying so.
 */
export async function failover(target: FastworkerTarget, w: FailoverWorkload, ctx: WorkloadContext): Promise<FailoverReport> {
  if (w.killAfter < 2 || w.killAfter >= w.tasks) throw new Error(`killAfter must be between 2 and tasks - 1 (got ${w.killAfter} of ${w.tasks})`);
  const client = new Client({ server: target.server });
  const acks: Ack[] = [];
  const results: Promise<unknown>[] = [];
  let refused = 0;
  const refusals: Record<string, number> = {};
  let killMarkAt = Number.NaN;
  let newLeaderAcked = false;
  const pending = new Set<Promise<void>>();
  const submit = (i: number): void => {
    const sent: Promise<void> = client.submit(TASK_NAME, { i }).then(
      (handle) => {
        acks.push({ id: handle.id, at: wallNow() });
        if (!Number.isNaN(killMarkAt) && !handle.id.startsWith(acks[0]!.id.slice(0, ID_PREFIX_LENGTH))) newLeaderAcked = true;
        if (acks.length === w.killAfter) {
          killMarkAt = wallNow();
          ctx.mark("failover-kill");
        }
        results.push(handle.result({ timeoutMs: ctx.timeoutMs }).catch(() => undefined)); // checked on the new leader below
      },
      (err: unknown) => {
        refused++;
        const reason = err instanceof ConnectError ? `${Code[err.code]}: ${err.rawMessage}` : String(err);
        if (reason in refusals || Object.keys(refusals).length < MAX_REASONS) refusals[reason] = (refusals[reason] ?? 0) + 1;
      },
    ).finally(() => pending.delete(sent));
    pending.add(sent);
  };

  try {
    const startedAt = performance.now();
    const deadline = startedAt + (w.tasks / w.rate) * 1000 + ctx.timeoutMs;
    let next = 0;
    // At least `tasks`, and on until the new leader acknowledged one: the load lasts past the failover however long it takes.
    while (next < w.tasks || (!Number.isNaN(killMarkAt) && !newLeaderAcked)) {
      if (performance.now() > deadline) {
        throw new Error(`after ${Math.round((deadline - startedAt) / 1000)}s: ${next} submitted, ${acks.length} acknowledged, ${refused} refused${Number.isNaN(killMarkAt) ? "" : ", none acknowledged by the new leader"}`);
      }
      const due = Math.ceil(((performance.now() - startedAt) / 1000) * w.rate);
      while (next < due && pending.size < w.rate * BACKLOG_SECONDS) submit(next++);
      await sleep(TICK_MS);
    }
    await bounded(Promise.all(pending), ctx.timeoutMs, () => `${pending.size} submissions still unanswered`);
    if (Number.isNaN(killMarkAt)) throw new Error(`only ${acks.length} of ${w.tasks} submissions were acknowledged; the kill needed ${w.killAfter}`);
    await bounded(Promise.all(results), ctx.timeoutMs, () => "results still missing");

    // Who acknowledged what.
    const before = acks.filter((a) => a.at <= killMarkAt);
    const oldPrefix = before[0]!.id.slice(0, ID_PREFIX_LENGTH);
    const stranger = before.find((a) => !a.id.startsWith(oldPrefix));
    if (stranger !== undefined) throw new Error(`ids acknowledged by one control plane do not share a ${ID_PREFIX_LENGTH}-character prefix (${before[0]!.id}, ${stranger.id}): the id format changed; update bench/producer/failover-workload.ts`);
    const fromNewLeader = acks.filter((a) => !a.id.startsWith(oldPrefix));
    const oldAfterMark = acks.filter((a) => a.at > killMarkAt && a.id.startsWith(oldPrefix));

    // Every acknowledged id, looked up on the new leader alone.
    const known = await tasksOn(w.verifyServer);
    const lost = acks.filter((a) => !known.has(a.id)).map((a) => a.id);
    const unfinished = acks.filter((a) => known.has(a.id) && known.get(a.id) !== "succeeded").map((a) => `${a.id} ${known.get(a.id)}`);
    const firstAckAt = earliest(before);
    return {
      kind: "failover",
      submitted: next,
      acked: acks.length,
      refused,
      refusals,
      killMarkAt,
      oldLeaderAcksAfterMark: oldAfterMark.length,
      firstNewLeaderAckAt: fromNewLeader.length > 0 ? earliest(fromNewLeader) : null,
      lost,
      unfinished,
      ackedPerSecondBefore: before.length / Math.max(1e-3, (killMarkAt - firstAckAt) / 1000),
    };
  } finally {
    await client.close();
  }
}

/** Id → state of every task the control plane at `server` keeps. */
async function tasksOn(server: string): Promise<Map<string, string>> {
  const client = new Client({ server });
  try {
    const states = new Map<string, string>();
    let pageToken: string | undefined;
    do {
      const page = await client.listTasks({ limit: 1000, ...(pageToken !== undefined ? { pageToken } : {}) });
      for (const t of page.tasks) states.set(t.id, t.state);
      pageToken = page.nextPageToken;
    } while (pageToken !== undefined);
    return states;
  } finally {
    await client.close();
  }
}

/** The earliest time among acknowledgements (NaN if none). */
function earliest(acks: readonly Ack[]): number {
  return acks.reduce((min, a) => (a.at < min || Number.isNaN(min) ? a.at : min), Number.NaN);
}
