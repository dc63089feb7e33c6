/**
 * A push-driven async iterable: producers push(), one consumer iterates.
 * Used for server streams whose messages are produced by loops (dispatch,
 * outcomes) rather than by the handler itself. close() ends the iteration
 * after the buffered items; fail() ends it with an error.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly closing = new AbortController();
  private readonly items: T[] = [];
  private head = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private rejecter: ((err: unknown) => void) | undefined;
  private done = false;
  private error: unknown;

  /** Aborts when close() or fail() is called, so a consumer blocked elsewhere can stop waiting. */
  get closedSignal(): AbortSignal {
    return this.closing.signal;
  }

  /** Items pushed and not yet taken by the consumer. */
  get size(): number {
    return this.items.length - this.head;
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
      const value = this.items[this.head++] as T;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
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
