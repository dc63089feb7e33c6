/** Paging through a newest-first listing whose page tokens are cursors (ListTasks). */

/** Where a page starts: how many tasks come before it, and the page token that starts there ("" for the first). */
export interface PagePosition {
  offset: number;
  token: string;
}

/** The first page. */
export const FIRST_PAGE: PagePosition = { offset: 0, token: "" };

/** ListTasks answers at most this many tasks, so a walk moves at most this far per call. */
export const MAX_HOP = 1000;

/**
 * Page tokens met so far, by offset: a way back to any page without walking
 * from the start again. Offsets are as of when each token was met; new
 * tasks arriving at the top shift them, the tokens stay valid.
 */
export class PageTokens {
  private readonly byOffset = new Map<number, string>([[0, ""]]);

  /** Remembers that `token` starts the listing after `offset` tasks. */
  note(position: PagePosition): void {
    if (position.token) this.byOffset.set(position.offset, position.token);
  }

  /** The known position at `offset`, or the closest one before it. */
  nearest(offset: number): PagePosition {
    let best = 0;
    for (const known of this.byOffset.keys()) if (known <= offset && known > best) best = known;
    return { offset: best, token: this.byOffset.get(best)! };
  }
}

/** Lists `size` tasks from `token`: how many came, and the token after them ("" at the end). */
export type Hop = (token: string, size: number) => Promise<{ count: number; next: string }>;

/**
 * The position `target` tasks into the listing, reached from the closest
 * known token before it in hops of at most {@link MAX_HOP} tasks (page
 * tokens are cursors: there is no jumping without walking). Every token met
 * is noted. If the listing ends first (old tasks expired meanwhile), answers
 * the last position it reached. `onHop` reports the offset reached, for a
 * person waiting; `signal` stops the walk.
 */
export async function seek(tokens: PageTokens, target: number, hop: Hop, options: { onHop?: (offset: number) => void; signal?: AbortSignal } = {}): Promise<PagePosition> {
  let at = tokens.nearest(target);
  while (at.offset < target) {
    options.signal?.throwIfAborted();
    const size = Math.min(MAX_HOP, target - at.offset);
    const { count, next } = await hop(at.token, size);
    if (count < size || next === "") return at;
    at = { offset: at.offset + size, token: next };
    tokens.note(at);
    options.onHop?.(at.offset);
  }
  return at;
}

/** Where the last page starts, for `total` tasks in pages of `pageSize`. */
export function lastPageOffset(total: number, pageSize: number): number {
  return total <= 0 ? 0 : Math.floor((total - 1) / pageSize) * pageSize;
}
