/**
 * One period (about a second) of what a control plane did, as plain numbers:
 * the server keeps ten minutes of them (`server/dashboard/stats-history.ts`)
 * and the dashboard charts them (`dashboard/src/live/samples.ts`). One shape
 * for both sides; browser-safe (no Node imports).
 */
export interface StatsSampleData {
  /** When the period ended, ms since epoch. */
  time: number;
  periodMs: number;
  /** Tasks submitted, and tasks that reached each final state, in the period. */
  submitted: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Tasks queued (all priorities) and running when the period ended. */
  queued: number;
  running: number;
}
