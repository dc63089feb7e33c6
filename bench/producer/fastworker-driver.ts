import { Client } from "fastworker";
import { CompletionCounter } from "./completion-counter.js";
import { TASK_NAME, type QueueDriver } from "./driver.js";
import type { FastworkerTarget } from "./protocol.js";

/**
 * The fastworker producer: the Client library with its defaults. submit()
 * calls made in one turn travel in one message on the client's Session
 * stream; each outcome is pushed back on it and awaited with handle.result().
 */
export class FastworkerDriver implements QueueDriver {
  readonly completions = new CompletionCounter();
  readonly client: Client;

  constructor(target: FastworkerTarget) {
    this.client = new Client({ server: target.server });
  }

  async submitBatch(indices: readonly number[]): Promise<void> {
    await Promise.all(indices.map((i) => this.submitOne(i)));
  }

  async submitOne(i: number): Promise<void> {
    const handle = await this.client.submit(TASK_NAME, { i });
    handle.result().then(this.completions.succeed, this.completions.fail);
  }

  async roundTrip(i: number): Promise<unknown> {
    const handle = await this.client.submit(TASK_NAME, { i });
    return await handle.result();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
