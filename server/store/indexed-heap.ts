/** Where an {@link IndexedHeap} keeps each item's position (a field of the item, so removal needs no map). */
export interface HeapSlot<T> {
  get(item: T): number;
  set(item: T, index: number): void;
}

/**
 * A binary min-heap by a numeric key that can remove any item in O(log n):
 * each item carries its index (kept up to date through `slot`), so an item
 * that leaves early (a cancelled delayed task, a cancelled task put back at
 * its old place) leaves the heap at once instead of waiting, referenced, for
 * its turn. Items with equal keys come out in no particular order.
 */
export class IndexedHeap<T> {
  private readonly items: T[] = [];
  private readonly keys: number[] = [];

  constructor(private readonly slot: HeapSlot<T>) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T, key: number): void {
    this.items.push(item);
    this.keys.push(key);
    const index = this.items.length - 1;
    this.slot.set(item, index);
    this.up(index);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** The smallest key (Infinity when empty). */
  peekKey(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.keys[0]!;
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Removes an item if the heap holds it (its slot says where); returns whether it did. */
  remove(item: T): boolean {
    const index = this.indexOf(item);
    if (index < 0) return false;
    this.removeAt(index);
    return true;
  }

  /** Whether the heap holds an item. */
  has(item: T): boolean {
    return this.indexOf(item) >= 0;
  }

  /** Sets an item's key, adding the item if the heap does not hold it. */
  update(item: T, key: number): void {
    const index = this.indexOf(item);
    if (index < 0) return this.push(item, key);
    const old = this.keys[index]!;
    if (key === old) return;
    this.keys[index] = key;
    if (key < old) this.up(index);
    else this.down(index);
  }

  /**
   * The item with the smallest key that `accept` takes, looking at items in
   * key order without removing them: undefined when none does, or null when
   * `limit` items were looked at without an answer and more remain (the
   * caller then asks another way). A best-first walk down the heap: O(k log k) for k items
   * looked at, however many the heap holds.
   */
  first(accept: (item: T) => boolean, limit: number): T | undefined | null {
    const n = this.items.length;
    if (n === 0) return undefined;
    const keys = this.keys;
    // The frontier: a small binary heap of indices into this heap, by key.
    const frontier = [0];
    for (let looked = 0; frontier.length > 0; ) {
      const i = frontier[0]!;
      const last = frontier.pop()!;
      if (frontier.length > 0) {
        frontier[0] = last;
        for (let j = 0; ; ) {
          const l = 2 * j + 1;
          const r = l + 1;
          let m = j;
          if (l < frontier.length && keys[frontier[l]!]! < keys[frontier[m]!]!) m = l;
          if (r < frontier.length && keys[frontier[r]!]! < keys[frontier[m]!]!) m = r;
          if (m === j) break;
          [frontier[j], frontier[m]] = [frontier[m]!, frontier[j]!];
          j = m;
        }
      }
      const item = this.items[i]!;
      if (accept(item)) return item;
      if (++looked >= limit && looked < n) return null;
      for (let child = 2 * i + 1; child <= 2 * i + 2 && child < n; child++) {
        frontier.push(child);
        for (let j = frontier.length - 1; j > 0; ) {
          const parent = (j - 1) >> 1;
          if (keys[frontier[parent]!]! <= keys[frontier[j]!]!) break;
          [frontier[j], frontier[parent]] = [frontier[parent]!, frontier[j]!];
          j = parent;
        }
      }
    }
    return undefined;
  }

  private indexOf(item: T): number {
    const index = this.slot.get(item);
    return index >= 0 && index < this.items.length && this.items[index] === item ? index : -1;
  }

  private removeAt(index: number): void {
    const removed = this.items[index]!;
    const lastItem = this.items.pop()!;
    const lastKey = this.keys.pop()!;
    this.slot.set(removed, -1);
    if (index === this.items.length) return; // it was the last one
    this.items[index] = lastItem;
    this.keys[index] = lastKey;
    this.slot.set(lastItem, index);
    this.down(index);
    this.up(index);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= this.keys[i]!) break;
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
      if (left < n && this.keys[left]! < this.keys[smallest]!) smallest = left;
      if (right < n && this.keys[right]! < this.keys[smallest]!) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const keys = this.keys;
    [items[a], items[b]] = [items[b]!, items[a]!];
    [keys[a], keys[b]] = [keys[b]!, keys[a]!];
    this.slot.set(items[a]!, a);
    this.slot.set(items[b]!, b);
  }
}
