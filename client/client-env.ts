import { readFileSync } from "node:fs";
import { readTokenFile } from "../common/transport/auth.js";
import type { TlsClientOptions } from "../common/transport/grpc-client.js";

/** The token `new Client()` uses when none is given: FW_TOKEN, else the file FW_TOKEN_FILE names. */
export function tokenFromEnv(): string | undefined {
  if (process.env.FW_TOKEN !== undefined) return process.env.FW_TOKEN;
  const file = process.env.FW_TOKEN_FILE;
  return file ? readTokenFile(file, "FW_TOKEN_FILE") : undefined;
}

/** The TLS settings `new Client()` uses when none are given: the CA file FW_TLS_CA names, if any. */
export function tlsFromEnv(): TlsClientOptions | undefined {
  const path = process.env.FW_TLS_CA;
  if (!path) return undefined;
  try {
    return { ca: readFileSync(path) };
  } catch (err) {
    throw new Error(`FW_TLS_CA: cannot read ${path}: ${(err as Error).message}`);
  }
}
