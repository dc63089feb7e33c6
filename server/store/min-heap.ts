/**
 * A binary min-heap ordered by a numeric key, with a numeric tag per entry
 * (see TaggedDeque for why). O(log n) push and pop.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];
  private readonly keys: number[] = [];
  private readonly tags: number[] = [];

  get length(): number {
    return this.items.length;
  }

  push(item: T, key: number, tag: number): void {
    this.items.push(item);
    this.keys.push(key);
    this.tags.push(tag);
    this.up(this.items.length - 1);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** The smallest key (Infinity when empty). */
  peekKey(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : (this.keys[0] as number);
  }

  peekTag(): number {
    return this.items.length === 0 ? Number.NaN : (this.tags[0] as number);
  }

  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    const lastItem = this.items.pop() as T;
    const lastKey = this.keys.pop() as number;
    const lastTag = this.tags.pop() as number;
    if (n > 1) {
      this.items[0] = lastItem;
      this.keys[0] = lastKey;
      this.tags[0] = lastTag;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.keys[parent] as number) <= (this.keys[i] as number)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && (this.keys[left] as number) < (this.keys[smallest] as number)) smallest = left;
      if (right < n && (this.keys[right] as number) < (this.keys[smallest] as number)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    [this.items[a], this.items[b]] = [this.items[b] as T, this.items[a] as T];
    [this.keys[a], this.keys[b]] = [this.keys[b] as number, this.keys[a] as number];
    [this.tags[a], this.tags[b]] = [this.tags[b] as number, this.tags[a] as number];
  }
}
