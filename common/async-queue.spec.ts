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
});
