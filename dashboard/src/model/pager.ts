/**
 * Where the task list is in a listing: the first page, the last, or a page
 * a token names (ListTasks answers tokens for the pages on both sides of
 * each page, and the last page on request, so no page is ever reached by
 * walking the ones before it).
 */
export interface PagePosition {
  /** Tasks before this page, for "51–100 of 1,234" (as of when the page was reached: new tasks shift it). */
  offset: number;
  /** "" for the first or the last page. */
  token: string;
  last: boolean;
}

/** The first page. */
export const FIRST_PAGE: PagePosition = { offset: 0, token: "", last: false };

/** The page after one that holds `rows` tasks. */
export function nextPage(at: PagePosition, rows: number, token: string): PagePosition {
  return { offset: at.offset + rows, token, last: false };
}

/** The page before; the first page itself (live, with no token) when it is the one before. */
export function previousPage(at: PagePosition, pageSize: number, token: string): PagePosition {
  const offset = at.offset - pageSize;
  return offset <= 0 || token === "" ? FIRST_PAGE : { offset, token, last: false };
}

/** The last page of `total` tasks in pages of `pageSize`. */
export function lastPage(total: number, pageSize: number): PagePosition {
  return { offset: lastPageOffset(total, pageSize), token: "", last: true };
}

/** Where the last page starts, for `total` tasks in pages of `pageSize`. */
export function lastPageOffset(total: number, pageSize: number): number {
  return total <= 0 ? 0 : Math.floor((total - 1) / pageSize) * pageSize;
}
