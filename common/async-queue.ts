/**
 * A push-driven async iterable: producers push(), one consumer iterates.
 * Used for server streams whose messages are produced by loops (dispatch,
 * outcomes) rather than by the handler itself. close() ends the iteration
 * after the buffered items; fail() ends it with an error.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private rejecter: ((err: unknown) => void) | undefined;
  private closed = false;
  private error: unknown;

  /** Items pushed and not yet taken by the consumer. */
  get size(): number {
    return this.items.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = this.rejecter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleWaiter();
  }

  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.error = err ?? new Error("stream failed");
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
    if (this.closed) {
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
