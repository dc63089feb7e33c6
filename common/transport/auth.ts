import { readFileSync } from "node:fs";

/** The header (gRPC metadata key) that carries the token. */
export const AUTH_HEADER = "authorization";

/** The shortest token accepted anywhere: 16 characters (`openssl rand -hex 16` makes 32). */
export const MIN_TOKEN_LENGTH = 16;

/** The header value for a token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/**
 * Checks a token given to any command or library class, `what` naming where
 * it came from (e.g. "--token"). An empty token is an error, never "no
 * authentication": leaving the flag out is how to say that.
 */
export function validateToken(token: string, what: string): string {
  if (token.length === 0) {
    throw new Error(`${what} is empty; an empty token does not turn authentication off (leave it out for that). Use at least ${MIN_TOKEN_LENGTH} characters, e.g. from: openssl rand -hex 16`);
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`${what} is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH}, e.g. from: openssl rand -hex 16`);
  }
  if (/[\r\n]/.test(token) || token !== token.trim()) throw new Error(`${what} has leading or trailing spaces or a line break; remove them`);
  return token;
}

/**
 * Reads a token from a file (so it stays out of `ps` and shell history):
 * the file's text without its final line break, checked by validateToken.
 */
export function readTokenFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
  return validateToken(text.replace(/\r?\n$/, ""), `the token in ${path} (${what})`);
}

/** The one message every unauthenticated call gets, on both ports. */
export const UNAUTHENTICATED_MESSAGE =
  "missing or wrong token: pass --token or --token-file (FW_TOKEN, FW_TOKEN_FILE) with one of the control plane's tokens";
