import { Store } from "./store.js";

/** A short message about something the person did (an action's result). */
export interface Toast {
  id: number;
  kind: "ok" | "error";
  text: string;
}

/** The messages on screen, newest last. */
export const toasts = new Store<Toast[]>([]);
let nextId = 1;

/** Shows a message for a few seconds (errors stay longer). */
export function toast(kind: Toast["kind"], text: string): void {
  const id = nextId++;
  toasts.set([...toasts.value, { id, kind, text }].slice(-4));
  setTimeout(() => dismiss(id), kind === "error" ? 10_000 : 5000);
}

/** Removes a message. */
export function dismiss(id: number): void {
  toasts.set(toasts.value.filter((t) => t.id !== id));
}

/**
 * How many modal views show their own toast region. A modal dialog makes the
 * rest of the page inert, so its toasts would be neither seen nor read out
 * there: while one is open, the messages appear inside it instead.
 */
export const modalToastHosts = new Store<number>(0);
