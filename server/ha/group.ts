import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../common/logger.js";
import { PostgresLog } from "../store/postgres-log.js";
import { Leadership, type LeaderInfo } from "./leadership.js";
import { redacted } from "./store-url.js";

/** Options for {@link joinGroup}. */
export interface GroupOptions {
  /** postgres://… */
  url: string;
  /** This control plane's id and addresses (recorded while it leads, shown by standbys). */
  self: { id: string; grpc: string; http: string };
  /** Standby poll and leader session check interval (default 500 ms). */
  pollMs?: number | undefined;
  logger: Logger;
  /** It leads: open the state on this log and serve. */
  onLead(log: PostgresLog): Promise<void>;
  /** It stands by (called again when the recorded leader changes). */
  onStandby(leader: LeaderInfo | undefined): void;
  /** It led and lost the lead: stop acknowledging at once. */
  onLost(reason: string): void;
}

/** A control plane's membership in its group. */
export interface GroupMembership {
  /** Leaves the group: stops campaigning, and ends the session (releasing the lead if held). */
  stop(): Promise<void>;
}

/**
 * Joins the group of control planes sharing one PostgreSQL database: leads
 * it if nobody does (resolving once serving), else stands by in the
 * background, polling for the lead and keeping the leader's address current
 * for the refusals it answers, and takes over when the leader's session
 * ends. A standby whose own database connection fails reconnects with
 * backoff; a leader that loses its session never leads again in this
 * process (it reports `onLost`; restart it to stand by).
 */
export async function joinGroup(options: GroupOptions): Promise<GroupMembership> {
  const pollMs = options.pollMs ?? 500;
  const where = redacted(options.url);
  const abort = new AbortController();
  let leadership = await connect(options, pollMs);
  const lead = async (term: number): Promise<void> => {
    options.logger.info({ term, store: where }, `leading the group on ${where} (term ${term})`);
    await options.onLead(new PostgresLog(leadership.client, term, where));
  };
  const term = await leadership.tryLead();
  if (term !== undefined) {
    await lead(term);
  } else {
    // A standby from the start: say so before returning (the ready line shows it), then campaign.
    const leader = await recordedLeader(() => leadership.leader(), pollMs);
    options.onStandby(leader);
    void standBy(JSON.stringify(leader ?? null));
  }
  return {
    async stop() {
      abort.abort();
      await leadership.stop();
    },
  };

  async function standBy(shownAtStart: string): Promise<void> {
    let shown: string | undefined = shownAtStart;
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const leader = await leadership.leader();
        const key = JSON.stringify(leader ?? null);
        if (key !== shown) {
          shown = key;
          options.onStandby(leader);
          options.logger.info({ leader }, leader === undefined ? "standing by" : `standing by; the leader is at ${leader.grpc} (term ${leader.term})`);
        }
        const term = await leadership.tryLead();
        if (term !== undefined) {
          await lead(term);
          return;
        }
        failures = 0;
        await sleep(pollMs, undefined, { signal: abort.signal });
      } catch (err) {
        if (abort.signal.aborted) return;
        failures++;
        const wait = Math.min(5000, 200 * 2 ** failures);
        options.logger.warn({ err }, `standby cannot reach the database (${(err as Error).message}); retrying in ${wait} ms`);
        await leadership.stop().catch(() => undefined); // already broken: nothing to release
        try {
          await sleep(wait, undefined, { signal: abort.signal });
          leadership = await connect(options, pollMs);
        } catch {
          // stopped while waiting, or still unreachable: the loop tries again (or ends)
        }
      }
    }
  }
}

/**
 * The leader as recorded, looking again every `stepMs` for up to `waitMs`
 * while none is. A control plane takes the lead (its advisory lock) and
 * then records its addresses, in two statements: a standby that starts at
 * the same moment can find the lock taken and the record still empty, and
 * would answer for a poll interval as if nobody led (its dashboard not
 * redirected, its refusals naming no leader). Bounded: at most
 * waitMs / stepMs + 1 reads.
 */
export async function recordedLeader(read: () => Promise<LeaderInfo | undefined>, waitMs: number, stepMs = 25): Promise<LeaderInfo | undefined> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const leader = await read();
    if (leader !== undefined || performance.now() + stepMs > deadline) return leader;
    await sleep(stepMs);
  }
}

async function connect(options: GroupOptions, pollMs: number): Promise<Leadership> {
  const leadership = new Leadership({ url: options.url, self: options.self, pollMs, logger: options.logger });
  leadership.on("lost", (reason) => options.onLost(reason));
  await leadership.connect();
  return leadership;
}
