import type { Logger } from "../../common/logger.js";

/** Options for {@link AuditLog}. */
export interface AuditLogOptions {
  /** Lines of one rate-limited kind per window (default 20). */
  burst?: number;
  /** The window, in milliseconds (default 60 s). */
  windowMs?: number;
}

type Level = "info" | "warn";
type Fields = Record<string, unknown>;

interface Budget {
  windowStart: number;
  used: number;
  suppressed: number;
  last: Fields | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Security-relevant events, one log line each with who (worker name and id,
 * credential) and from where (peer address), marked `audit: true` so a log
 * pipeline can pick them out: workers registered or replaced, definitions
 * changed or conflicts refused, dispatch streams taken over, results refused
 * by fencing, calls refused for their credentials.
 *
 * Events anyone can cause at will (refused calls; fencing rejections from a
 * confused worker) are rate-limited per kind: at most `burst` lines per
 * window, then one line saying how many were left out, so a flood cannot
 * fill the disk or bury the rest of the log.
 */
export class AuditLog {
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly logger: Logger,
    options: AuditLogOptions = {},
  ) {
    this.burst = options.burst ?? 20;
    this.windowMs = options.windowMs ?? 60_000;
  }

  /** Logs an event. */
  log(level: Level, fields: Fields, message: string): void {
    this.logger[level]({ audit: true, ...fields }, message);
  }

  /** Logs an event of a rate-limited `kind`, unless that kind used up its window. */
  limited(kind: string, level: Level, fields: Fields, message: string, now = Date.now()): void {
    let budget = this.budgets.get(kind);
    if (budget === undefined || now - budget.windowStart >= this.windowMs) {
      if (budget !== undefined) this.summarise(kind, budget);
      budget = { windowStart: now, used: 0, suppressed: 0, last: undefined, timer: undefined };
      this.budgets.set(kind, budget);
    }
    if (budget.used < this.burst) {
      budget.used++;
      this.log(level, { kind, ...fields }, message);
      return;
    }
    budget.suppressed++;
    budget.last = fields;
    // Say how many were left out when the window ends, even if nothing else comes.
    if (budget.timer === undefined) {
      const b = budget;
      b.timer = setTimeout(() => {
        if (this.budgets.get(kind) === b) this.budgets.delete(kind);
        this.summarise(kind, b);
      }, this.windowMs - (now - b.windowStart));
      b.timer.unref();
    }
  }

  /** Writes what is pending and stops the timers. */
  close(): void {
    for (const [kind, budget] of this.budgets) this.summarise(kind, budget);
    this.budgets.clear();
  }

  private summarise(kind: string, budget: Budget): void {
    clearTimeout(budget.timer);
    budget.timer = undefined;
    if (budget.suppressed === 0) return;
    const n = budget.suppressed;
    budget.suppressed = 0;
    this.log("warn", { kind, suppressed: n, latest: budget.last }, `${n} more ${kind} events in ${this.windowMs / 1000}s were not logged one by one (rate limit); the latest is in "latest"`);
  }
}
