import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubmitBatchResult, SubmitRequestSchema } from "../gen/fastworker/v1/task_service_pb.js";

type SubmitInit = MessageInitShape<typeof SubmitRequestSchema>;

/** Limits for {@link SubmitBatcher}. */
export interface BatchLimits {
  /** Most tasks in one SubmitBatch call (default 1000). */
  maxItems: number;
  /** Most bytes of args in one call (default 4 MiB). */
  maxBytes: number;
  /** Most SubmitBatch calls in flight at once (default 4). */
  maxInFlight: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = Object.freeze({ maxItems: 1000, maxBytes: 4 * 1024 * 1024, maxInFlight: 4 });

interface Pending {
  request: SubmitInit;
  bytes: number;
  resolve(result: SubmitBatchResult): void;
  reject(err: unknown): void;
}

/**
 * Coalesces submit() calls into SubmitBatch calls. Submissions made in the
 * same turn of the event loop go out together; while maxInFlight calls are
 * outstanding, new submissions wait and form the next batch, so the batch
 * size follows the load and a lone submit is sent at once.
 */
export class SubmitBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (requests: SubmitInit[]) => Promise<SubmitBatchResult[]>,
    private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS,
  ) {}

  /** Queues one submission; resolves with its per-item result (id or error). */
  add(request: SubmitInit, bytes: number): Promise<SubmitBatchResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, bytes, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Submissions not yet sent. */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.limits.maxInFlight) {
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && count < this.limits.maxItems) {
        const next = this.queue[count]!.bytes;
        if (count > 0 && bytes + next > this.limits.maxBytes) break;
        bytes += next;
        count++;
      }
      const batch = this.queue.splice(0, count);
      this.inFlight++;
      this.send(batch.map((p) => p.request)).then(
        (results) => {
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
        },
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      ).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
