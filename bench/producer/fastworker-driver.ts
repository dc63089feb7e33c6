import { Client } from "fastworker";
import { CompletionCounter } from "./completion-counter.js";
import { TASK_NAME, type NamedTask, type QueueDriver } from "./driver.js";
import type { FastworkerTarget } from "./protocol.js";

/**
 * The fastworker producer: the Client library with its defaults. submit()
 * calls made in one turn travel in one message on the client's Session
 * stream; each outcome is pushed back on it and awaited with handle.result().
 * The scaling sweeps give it several Clients, each its own connection and
 * Session stream, as several application processes would have.
 */
export class FastworkerDriver implements QueueDriver {
  readonly completions = new CompletionCounter();
  private readonly clients: Client[];

  constructor(target: FastworkerTarget, sessions = 1) {
    this.clients = Array.from({ length: sessions }, () => new Client({ server: target.server }));
  }

  get sessions(): number {
    return this.clients.length;
  }

  async submitBatch(indices: readonly number[]): Promise<void> {
    await Promise.all(indices.map((i) => this.submitOne(i)));
  }

  async submitOne(i: number): Promise<void> {
    const handle = await this.clients[0]!.submit(TASK_NAME, { i });
    handle.result().then(this.completions.succeed, this.completions.fail);
  }

  async roundTrip(i: number): Promise<unknown> {
    const handle = await this.clients[0]!.submit(TASK_NAME, { i });
    return await handle.result();
  }

  callBatch(session: number, tasks: readonly NamedTask[]): Promise<unknown>[] {
    const client = this.clients[session]!;
    // Submissions made in one turn travel in one Session message.
    return tasks.map((t) => client.submit(t.name, t.args).then((handle) => handle.result()));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }
}
