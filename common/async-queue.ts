/** How much an {@link AsyncQueue} holds for a consumer that falls behind, and what happens past that. */
export interface QueueBound<T> {
  /** The most items waiting for the consumer. */
  maxItems: number;
  /** The most bytes waiting, as `sizeOf` counts them (default: no byte bound). */
  maxBytes?: number;
  /** An item's size for maxBytes (an estimate is fine: it bounds memory, not a wire format). */
  sizeOf?: (item: T) => number;
  /**
   * The error the queue fails with when a push would pass a bound: the
   * consumer is not keeping up (e.g. a client that stopped reading its
   * stream), so buffering on would only grow memory. Say why, for the peer.
   */
  overflow(waiting: { items: number; bytes: number }): unknown;
}

/** Options for {@link AsyncQueue}. */
export interface AsyncQueueOptions<T> {
  /** Without a bound, the queue grows as long as producers push (use only when they are bounded themselves). */
  bound?: QueueBound<T>;
  /** Called each time the consumer takes a buffered item, with how many are left (to resume a paused producer). */
  onTake?: (size: number) => void;
}

/**
 * A push-driven async iterable: producers push(), one consumer iterates.
 * Used for server streams whose messages are produced by loops (dispatch,
 * outcomes) rather than by the handler itself. close() ends the iteration
 * after the buffered items; fail() ends it with an error. With a bound, a
 * consumer that falls too far behind fails the queue instead of letting it
 * grow: the stream ends with the bound's error (RESOURCE_EXHAUSTED, saying
 * why) and what it held is freed.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly closing = new AbortController();
  private readonly items: T[] = [];
  /** Sizes of the items, same indexes (only with a byte bound). */
  private readonly sizes: number[] = [];
  private bytes = 0;
  private head = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private rejecter: ((err: unknown) => void) | undefined;
  private done = false;
  private error: unknown;
  private readonly bound: QueueBound<T> | undefined;
  private readonly onTake: ((size: number) => void) | undefined;

  constructor(options: AsyncQueueOptions<T> = {}) {
    this.bound = options.bound;
    this.onTake = options.onTake;
  }

  /** Aborts when close() or fail() is called, so a consumer blocked elsewhere can stop waiting. */
  get closedSignal(): AbortSignal {
    return this.closing.signal;
  }

  /** Items pushed and not yet taken by the consumer. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Bytes of the items waiting, as the bound's sizeOf counts them (0 without a byte bound). */
  get waitingBytes(): number {
    return this.bytes;
  }

  get isClosed(): boolean {
    return this.done;
  }

  push(item: T): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = this.rejecter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    const bound = this.bound;
    if (bound !== undefined) {
      const size = bound.sizeOf === undefined ? 0 : bound.sizeOf(item);
      if (this.size + 1 > bound.maxItems || (bound.maxBytes !== undefined && this.bytes + size > bound.maxBytes)) {
        this.fail(bound.overflow({ items: this.size, bytes: this.bytes }));
        return;
      }
      if (bound.sizeOf !== undefined) {
        this.sizes.push(size);
        this.bytes += size;
      }
    }
    this.items.push(item);
  }

  /** Ends the iteration once the buffered items are taken. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.closing.abort();
    this.settleWaiter();
  }

  /** Ends the iteration at once with an error; buffered items are dropped. */
  fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = err ?? new Error("stream failed");
    this.items.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
    this.head = 0;
    this.closing.abort();
    this.settleWaiter();
  }

  private settleWaiter(): void {
    const { waiter, rejecter } = this;
    this.waiter = this.rejecter = undefined;
    if (this.error !== undefined && rejecter) rejecter(this.error);
    else waiter?.({ value: undefined, done: true });
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const index = this.head++;
      const value = this.items[index] as T;
      this.items[index] = undefined as T; // the consumer owns it now: do not keep it alive here
      if (this.sizes.length > 0) this.bytes -= this.sizes[index]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        if (this.sizes.length > 0) this.sizes.splice(0, this.head);
        this.head = 0;
      }
      this.onTake?.(this.size);
      return Promise.resolve({ value, done: false });
    }
    if (this.done) {
      return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.rejecter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
