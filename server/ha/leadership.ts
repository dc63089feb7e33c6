import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "../../common/logger.js";
import { migrate } from "../store/postgres-schema.js";

/** Where a control plane listens, recorded by the leader for the others to point at. */
export interface LeaderInfo {
  term: number;
  holder: string;
  grpc: string;
  http: string;
  since: Date;
}

/** Options for {@link Leadership}. */
export interface LeadershipOptions {
  /** postgres://… */
  url: string;
  /** This control plane: an id (unique per process), and its addresses for clients. */
  self: { id: string; grpc: string; http: string };
  /** How often a standby tries to take the lead, and the leader checks its session (default 500 ms). */
  pollMs?: number;
  logger: Logger;
}

/** Events of {@link Leadership}. */
export interface LeadershipEvents {
  /** The leading session is gone (connection cut, database restarted, another term): stop serving now. */
  lost: [reason: string];
}

/** Lock id for leadership (pg_try_advisory_lock): "fw" "lead". */
const LEADER_LOCK = 0x66776c656164n.toString();

/**
 * Which control plane of a group leads, decided by PostgreSQL. Leading means
 * holding a session-level advisory lock on this object's connection: PostgreSQL
 * releases it the moment that session ends (process killed, host gone,
 * connection cut, `pg_terminate_backend`), so a standby polling for it takes
 * over within a poll interval, with no lease to wait out. Taking the lead
 * raises the fencing term in `fw_leader`; the leader's writes (`PostgresLog`)
 * go through the same session and only commit while the term is still its
 * own. The leader checks its session every poll interval and reports `lost`
 * on the first failure, so it stops acknowledging at once.
 */
export class Leadership extends EventEmitter<LeadershipEvents> {
  readonly client: pg.Client;
  private term: number | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lostReason: string | undefined;

  constructor(private readonly options: LeadershipOptions) {
    super();
    this.client = new pg.Client({
      connectionString: options.url,
      // Shown in pg_stat_activity: which fw-server holds which session.
      application_name: `fw-server pid ${process.pid}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
      query_timeout: 10_000,
    });
    this.client.on("error", (err) => this.lose(`its database connection failed: ${err.message}`));
    this.client.on("end", () => this.lose("its database connection ended"));
  }

  /** Connects and brings the schema up to date (safe from several processes at once). */
  async connect(): Promise<void> {
    await this.client.connect();
    const applied = await migrate(this.client);
    if (applied.length > 0) this.options.logger.info({ applied }, `migrated the database to schema version ${applied[applied.length - 1]}`);
  }

  /** The term this control plane leads under, while it leads. */
  get leadingTerm(): number | undefined {
    return this.lostReason === undefined ? this.term : undefined;
  }

  /** Takes the lead if nobody holds it; answers the new term, or undefined (another control plane leads). */
  async tryLead(): Promise<number | undefined> {
    const { rows } = await this.client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [LEADER_LOCK]);
    if (rows[0]?.locked !== true) return undefined;
    const self = this.options.self;
    const updated = await this.client.query<{ term: string }>(
      "UPDATE fw_leader SET term = term + 1, holder = $1, grpc = $2, http = $3, since = now() WHERE id = 1 RETURNING term",
      [self.id, self.grpc, self.http],
    );
    this.term = Number(updated.rows[0]!.term);
    this.watch();
    return this.term;
  }

  /** Tries to take the lead every poll interval until it does (or `signal` aborts); answers the term. */
  async campaign(signal: AbortSignal): Promise<number> {
    const pollMs = this.options.pollMs ?? 500;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const term = await this.tryLead();
      if (term !== undefined) return term;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }

  /** The leader as it recorded itself (its addresses, term and since when); undefined before anyone led. */
  async leader(): Promise<LeaderInfo | undefined> {
    const { rows } = await this.client.query<{ term: string; holder: string; grpc: string; http: string; since: Date }>(
      "SELECT term, holder, grpc, http, since FROM fw_leader WHERE id = 1",
    );
    const row = rows[0];
    if (row === undefined || row.holder === "") return undefined;
    return { term: Number(row.term), holder: row.holder, grpc: row.grpc, http: row.http, since: row.since };
  }

  /** Ends the session (releasing the lead, if held). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    await this.client.end();
  }

  /** While leading: checks every poll interval that the session is alive and the term still ours. */
  private watch(): void {
    const pollMs = this.options.pollMs ?? 500;
    let checking = false;
    this.checkTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      this.client
        .query<{ term: string }>("SELECT term FROM fw_leader WHERE id = 1")
        .then(
          ({ rows }) => {
            if (Number(rows[0]?.term) !== this.term) this.lose(`another control plane took the lead (term ${rows[0]?.term})`);
          },
          (err: Error) => this.lose(`its database session failed a check: ${err.message}`),
        )
        .finally(() => (checking = false));
    }, pollMs);
    this.checkTimer.unref();
  }

  private lose(reason: string): void {
    if (this.stopped || this.lostReason !== undefined) return;
    this.lostReason = reason;
    clearInterval(this.checkTimer);
    if (this.term !== undefined) this.emit("lost", reason);
    else this.options.logger.warn(`standby lost its database connection: ${reason}`);
  }
}
