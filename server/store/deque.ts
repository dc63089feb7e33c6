/**
 * A FIFO ring buffer whose entries carry a numeric tag beside the item, so a
 * queue can hold entries that went stale (a cancelled task, a task queued
 * again elsewhere) and recognise them when they reach the front, without a
 * wrapper object per entry. push and shift are O(1) amortised. An entry can
 * also be cleared where it stands ({@link clear}, by the position push()
 * returned): the item is no longer referenced, and the empty entry is
 * skipped at the front like a stale one (peek() gives undefined for it).
 */
export class TaggedDeque<T> {
  private items: (T | undefined)[];
  private tags: Float64Array;
  private head = 0;
  private count = 0;
  /** Entries shifted off so far: the position of the front entry. */
  private shifted = 0;

  constructor(initialCapacity = 16) {
    const capacity = Math.max(4, 1 << Math.ceil(Math.log2(initialCapacity)));
    this.items = new Array<T | undefined>(capacity);
    this.tags = new Float64Array(capacity);
  }

  /** Entries held, stale ones included. */
  get length(): number {
    return this.count;
  }

  /** Appends an entry; returns its position (for {@link clear}). */
  push(item: T, tag: number): number {
    if (this.count === this.items.length) this.grow();
    const index = (this.head + this.count) & (this.items.length - 1);
    this.items[index] = item;
    this.tags[index] = tag;
    return this.shifted + this.count++;
  }

  /** Empties the entry at `position` if it still holds `item`; returns whether it did. */
  clear(position: number, item: T): boolean {
    const offset = position - this.shifted;
    if (!(offset >= 0 && offset < this.count)) return false;
    const index = (this.head + offset) & (this.items.length - 1);
    if (this.items[index] !== item) return false;
    this.items[index] = undefined;
    return true;
  }

  /** The front item, or undefined when empty (or when the front entry was cleared: see length). */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** The front entry's tag (NaN when empty). */
  peekTag(): number {
    return this.count === 0 ? Number.NaN : (this.tags[this.head] as number);
  }

  /** Removes the front entry and returns its item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    this.shifted++;
    return item;
  }

  private grow(): void {
    const capacity = this.items.length * 2;
    const items = new Array<T | undefined>(capacity);
    const tags = new Float64Array(capacity);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) & (this.items.length - 1);
      items[i] = this.items[from];
      tags[i] = this.tags[from] as number;
    }
    this.items = items;
    this.tags = tags;
    this.head = 0;
  }
}
