import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.js";

async function drain<T>(queue: AsyncQueue<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of queue) items.push(item);
  return items;
}

describe("AsyncQueue", () => {
  it("hands items over in push order, whether pushed before or while the consumer waits", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    expect(queue.size).toBe(2);
    const consumed = drain(queue);
    await Promise.resolve();
    queue.push(3); // the consumer is waiting by now: handed over directly
    queue.push(4);
    queue.close();
    expect(await consumed).toEqual([1, 2, 3, 4]);
    expect(queue.size).toBe(0);
  });

  it("keeps order across many items (the buffer compacts as it is read)", async () => {
    const queue = new AsyncQueue<number>();
    const n = 5000;
    for (let i = 0; i < n; i++) queue.push(i);
    const iterator = queue[Symbol.asyncIterator]();
    const firstHalf: number[] = [];
    for (let i = 0; i < n / 2; i++) firstHalf.push((await iterator.next()).value as number);
    for (let i = n; i < n + 10; i++) queue.push(i);
    queue.close();
    const rest: number[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(r.value);
    expect([...firstHalf, ...rest]).toEqual(Array.from({ length: n + 10 }, (_, i) => i));
  });

  it("close() ends the iteration after the buffered items; later pushes are ignored", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("a");
    queue.close();
    queue.push("b");
    expect(queue.isClosed).toBe(true);
    expect(await drain(queue)).toEqual(["a"]);
  });

  it("close() ends a consumer that is waiting", async () => {
    const queue = new AsyncQueue<string>();
    const consumed = drain(queue);
    await Promise.resolve();
    queue.close();
    expect(await consumed).toEqual([]);
  });

  it("fail() ends the iteration at once with the error, dropping what was buffered", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("dropped");
    const err = new Error("the stream broke");
    queue.fail(err);
    expect(queue.size).toBe(0);
    await expect(drain(queue)).rejects.toBe(err);
  });

  it("fail() rejects a consumer that is waiting; without a reason it still fails", async () => {
    const queue = new AsyncQueue<string>();
    const consumed = drain(queue);
    await Promise.resolve();
    queue.fail(undefined);
    await expect(consumed).rejects.toThrow("stream failed");
  });

  it("only the first of close() and fail() counts", async () => {
    const closedFirst = new AsyncQueue<number>();
    closedFirst.push(1);
    closedFirst.close();
    closedFirst.fail(new Error("too late"));
    expect(await drain(closedFirst)).toEqual([1]);

    const failedFirst = new AsyncQueue<number>();
    failedFirst.fail(new Error("first"));
    failedFirst.close();
    await expect(drain(failedFirst)).rejects.toThrow("first");
  });

  it("closedSignal aborts on close() and on fail(), for a consumer blocked elsewhere", () => {
    const closed = new AsyncQueue<number>();
    expect(closed.closedSignal.aborted).toBe(false);
    closed.close();
    expect(closed.closedSignal.aborted).toBe(true);

    const failed = new AsyncQueue<number>();
    failed.fail(new Error("x"));
    expect(failed.closedSignal.aborted).toBe(true);
  });

  it("a consumer that stops early (break) closes the queue", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    for await (const item of queue) {
      expect(item).toBe(1);
      break;
    }
    expect(queue.isClosed).toBe(true);
    expect(queue.closedSignal.aborted).toBe(true);
    queue.push(3);
    expect(await drain(queue)).toEqual([2]); // what was buffered before the break is still there
  });

  it("with a bound, fails with the bound's error when a consumer falls behind by more items or bytes, and frees what it held", async () => {
    const overflowed: { items: number; bytes: number }[] = [];
    const bound = (maxItems: number, maxBytes?: number) => ({
      maxItems,
      maxBytes,
      sizeOf: (s: string) => s.length,
      overflow: (waiting: { items: number; bytes: number }) => {
        overflowed.push(waiting);
        return new Error(`reader too slow: ${waiting.items} waiting`);
      },
    });
    const byCount = new AsyncQueue<string>({ bound: bound(2) });
    byCount.push("a");
    byCount.push("b");
    expect(byCount.waitingBytes).toBe(2);
    byCount.push("c");
    expect(byCount.isClosed).toBe(true);
    expect(byCount.size).toBe(0);
    expect(byCount.waitingBytes).toBe(0);
    await expect(drain(byCount)).rejects.toThrow("reader too slow: 2 waiting");

    const byBytes = new AsyncQueue<string>({ bound: bound(100, 10) });
    const iterator = byBytes[Symbol.asyncIterator]();
    byBytes.push("12345");
    byBytes.push("1234");
    expect((await iterator.next()).value).toBe("12345"); // taking frees its bytes…
    byBytes.push("123456"); // …so 4 + 6 fits
    expect(byBytes.waitingBytes).toBe(10);
    byBytes.push("1");
    expect(overflowed.at(-1)).toEqual({ items: 2, bytes: 10 });
    await expect(iterator.next()).rejects.toThrow("reader too slow");

    // A consumer that is waiting takes each item as it comes: nothing is buffered, so no bound is reached.
    const keepingUp = new AsyncQueue<string>({ bound: bound(1, 1) });
    const consumed = drain(keepingUp);
    for (let i = 0; i < 50; i++) {
      await Promise.resolve();
      keepingUp.push("long item");
    }
    keepingUp.close();
    expect(await consumed).toHaveLength(50);
  });

  it("tells onTake how many items are left each time the consumer takes one", async () => {
    const left: number[] = [];
    const queue = new AsyncQueue<number>({ onTake: (size) => left.push(size) });
    for (let i = 0; i < 3; i++) queue.push(i);
    queue.close();
    expect(await drain(queue)).toEqual([0, 1, 2]);
    expect(left).toEqual([2, 1, 0]);
  });
});
