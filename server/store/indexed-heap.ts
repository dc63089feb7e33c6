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
    const index = this.slot.get(item);
    if (!(index >= 0 && index < this.items.length) || this.items[index] !== item) return false;
    this.removeAt(index);
    return true;
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
