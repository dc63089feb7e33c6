import type { LogWrite, StateLog } from "./state-log.js";

/** What a batch holds when it is cut: its writes, and what to do once they are durable. */
export interface Cut {
  writes: LogWrite[];
  durable(): void;
}

/**
 * Group commit: every change made during one turn of the event loop (all the
 * messages that arrived together, a whole batch of submissions) goes to the
 * log as one batch, written and fsync'd once, so durability costs one fsync
 * per batch, not per task. While a batch is being written the next one
 * gathers. Batches become durable in order.
 *
 * Acknowledgements wait on {@link barrier}; callbacks registered with
 * {@link afterDurable} (waking waiters, dispatching) run once the batch
 * holding the writes made so far is on disk. If the log ever fails, every
 * barrier from then on rejects: nothing is acknowledged that may not be
 * stored, and `onFailure` lets the process fail loudly.
 */
export class GroupCommit {
  private scheduled = false;
  private callbacks: (() => void)[] = [];
  /** Resolves once the batch being gathered is durable (created on demand). */
  private gathering: { promise: Promise<void>; resolve(): void; reject(err: unknown): void } | undefined;
  /** Resolves once every batch cut so far is durable. */
  private written: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly log: StateLog,
    /** Called when a batch is cut (in the turn after the changes): the writes it carries. */
    private readonly cut: () => Cut,
    private readonly onFailure: (err: Error) => void,
  ) {}

  /** The error that stopped the log, if it failed. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Notes that there are changes to write: a batch is cut at the end of this turn. */
  schedule(): void {
    if (this.scheduled || this.failure !== undefined) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Resolves when every change made so far is durable; rejects if the log failed. */
  barrier(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.scheduled) return this.written;
    this.gathering ??= deferred();
    return this.gathering.promise;
  }

  /** Runs `fn` once every change made so far is durable (never, if the log fails first). */
  afterDurable(fn: () => void): void {
    if (this.failure !== undefined) return;
    this.callbacks.push(fn);
    this.schedule();
  }

  /** Writes what is pending and waits until everything is durable (shutdown). */
  async drain(): Promise<void> {
    if (this.scheduled) this.flush();
    await this.written;
  }

  private flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    if (this.failure !== undefined) return;
    const { writes, durable } = this.cut();
    const callbacks = this.callbacks;
    const gathering = this.gathering;
    this.callbacks = [];
    this.gathering = undefined;
    const write = writes.length > 0 ? this.log.write(writes) : Promise.resolve();
    const previous = this.written;
    // In order: a batch counts as durable only once every earlier one is too.
    this.written = Promise.all([previous, write]).then(
      () => {
        durable();
        for (const fn of callbacks) fn();
        gathering?.resolve();
      },
      (err: unknown) => {
        this.fail(err);
        gathering?.reject(this.failure);
        throw this.failure;
      },
    );
    this.written.catch(() => undefined); // reported through fail() and every later barrier
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    const cause = err instanceof Error ? err : new Error(String(err));
    this.failure = new Error(`the control plane could not write its state (${this.log.description}): ${cause.message}`, { cause });
    this.callbacks = [];
    this.onFailure(this.failure);
  }
}

function deferred(): { promise: Promise<void>; resolve(): void; reject(err: unknown): void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a rejection is seen by whoever awaits the barrier
  return { promise, resolve, reject };
}
