import { Client } from "fastworker";
import { roundTrips, type WorkloadContext } from "./workloads.js";
import { wallNow, type BreakdownReport, type BreakdownSample, type BreakdownWorkload, type FastworkerTarget } from "./protocol.js";

/** The task that answers when its handler started (see workers/noop-tasks.mjs). */
export const STAMP_TASK = "stamp";

/**
 * fastworker only: idle round trips of the `stamp` task, recording wall-clock
 * times at the producer (submit called, accepted, result) and at the handler.
 * The control plane's own times come from the instrumented control plane.
 */
export async function breakdown(target: FastworkerTarget, w: BreakdownWorkload, ctx: WorkloadContext): Promise<BreakdownReport> {
  const client = new Client({ server: target.server });
  try {
    const samples = await roundTrips(ctx, {
      async burst() {
        for (let done = 0; done < w.burst; done += w.chunk) {
          const size = Math.min(w.chunk, w.burst - done);
          await Promise.all(Array.from({ length: size }, () => client.submit(STAMP_TASK, null).then((handle) => handle.result({ timeoutMs: ctx.timeoutMs }))));
        }
      },
      warmup: w.warmup,
      samples: w.samples,
      async roundTrip(): Promise<BreakdownSample> {
        const call = wallNow();
        const handle = await client.submit(STAMP_TASK, null);
        const accepted = wallNow();
        const value = (await handle.result({ timeoutMs: ctx.timeoutMs })) as { at: number };
        return { id: handle.id, call, accepted, handler: value.at, result: wallNow() };
      },
    });
    return { kind: "breakdown", samples };
  } finally {
    await client.close();
  }
}
