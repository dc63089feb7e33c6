import { Store } from "../model/store.js";

const KEY = "fastworker.token";

function load(): string {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return ""; // storage disabled (private mode, sandboxed frame): ask every time
  }
}

/**
 * The control plane's token as the person typed it. Kept in localStorage,
 * so this browser remembers it across tabs and restarts until the person
 * signs out; never in the URL. Every Connect call reads it.
 */
export const token = new Store<string>(load());

/** Remembers a new token in this browser (or forgets it: sign-out) and tells the streams to reconnect with it. */
export function setToken(value: string): void {
  try {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  } catch (err) {
    console.warn("cannot keep the token in localStorage; it lasts until the page reloads", err);
  }
  token.set(value);
}
