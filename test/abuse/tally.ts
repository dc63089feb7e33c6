/** What one surface of the abuse run saw. */
export interface SurfaceTally {
  inputs: number;
  statuses: Map<string, number>;
}

/** A request that got an answer it must never get (INTERNAL, a 500, a dead server…). */
export interface Failure {
  surface: string;
  status: string;
  input: string;
}

/** Counts inputs and answers per surface, and keeps the first failures with the input that caused them. */
export class Tally {
  readonly surfaces = new Map<string, SurfaceTally>();
  readonly failures: Failure[] = [];
  failureCount = 0;

  record(surface: string, status: string, failed: boolean, input: () => string): void {
    let tally = this.surfaces.get(surface);
    if (tally === undefined) this.surfaces.set(surface, (tally = { inputs: 0, statuses: new Map() }));
    tally.inputs++;
    tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
    if (!failed) return;
    this.failureCount++;
    if (this.failures.length < 50) this.failures.push({ surface, status, input: input().slice(0, 2000) });
  }

  get inputs(): number {
    let n = 0;
    for (const t of this.surfaces.values()) n += t.inputs;
    return n;
  }
}

/** Runs `work(i)` for i in [0, count), at most `concurrency` at a time. */
export async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await work(next++);
  });
  await Promise.all(runners);
}
