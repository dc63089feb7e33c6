import { Store } from "../model/store.js";

const KEY = "fastworker.token";

function load(): string {
  try {
    return sessionStorage.getItem(KEY) ?? "";
  } catch {
    return ""; // storage disabled (private mode, sandboxed frame): ask every time
  }
}

/**
 * The control plane's token as the person typed it. Kept in sessionStorage
 * (this tab, until it closes), never in the URL. Every Connect call reads it.
 */
export const token = new Store<string>(load());

/** Remembers a new token for this tab and tells the streams to reconnect with it. */
export function setToken(value: string): void {
  try {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  } catch (err) {
    console.warn("cannot keep the token in sessionStorage; it lasts until the page reloads", err);
  }
  token.set(value);
}
