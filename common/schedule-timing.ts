import { Cron } from "croner";

/** When a schedule ticks: the first tick strictly after a time. */
export interface ScheduleTiming {
  /** The first tick strictly after `after` (Unix ms); +Infinity when there is none. */
  next(after: number): number;
}

/** The shortest interval a schedule may have. */
export const MIN_INTERVAL_MS = 1000;

/** The longest interval: 366 days, like the longest delay (every tick must be a time JSON and protobuf can write). */
export const MAX_INTERVAL_MS = 366 * 24 * 3600_000;

/**
 * Cron ticks, computed by croner in the schedule's IANA time zone (default
 * UTC). Five fields (minute hour day-of-month month day-of-week) or six with
 * seconds first; day-of-month and day-of-week combine as in Vixie cron (either
 * matches). Across DST: a local time skipped by the spring change runs at the
 * first valid time after the gap (02:30 on the day Paris jumps from 02:00 to
 * 03:00 runs at 03:00); a local time that occurs twice in the autumn runs
 * once, at its first occurrence; hourly and finer schedules tick once per real
 * hour. Throws an Error for an invalid expression or time zone.
 */
export function cronTiming(expression: string, timeZone: string | undefined): ScheduleTiming {
  const zone = timeZone || "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(zone)}: use an IANA name such as "Europe/Paris" or "UTC"`);
  }
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new Error(`cron ${JSON.stringify(expression)} has ${fields} fields; use 5 (minute hour day month weekday) or 6 (seconds first)`);
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: zone, paused: true, legacyMode: true });
  } catch (err) {
    throw new Error(`cron ${JSON.stringify(expression)}: ${(err as Error).message}`);
  }
  return {
    next(after) {
      const next = cron.nextRun(new Date(after));
      return next === null ? Number.POSITIVE_INFINITY : next.getTime();
    },
  };
}

/**
 * Fixed-interval ticks at whole multiples of the interval since the Unix
 * epoch (every 5m: :00, :05, :10…), so every declaration and every restart
 * computes the same ticks.
 */
export function intervalTiming(everyMs: number): ScheduleTiming {
  if (!(Number.isFinite(everyMs) && everyMs >= MIN_INTERVAL_MS)) throw new Error(`an interval must be at least ${MIN_INTERVAL_MS / 1000}s (got ${everyMs}ms)`);
  if (everyMs > MAX_INTERVAL_MS) throw new Error(`an interval must be at most 366 days (got ${everyMs / 1000}s)`);
  return { next: (after) => (Math.floor(after / everyMs) + 1) * everyMs };
}
