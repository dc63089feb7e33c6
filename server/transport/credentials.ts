import { createHash, timingSafeEqual } from "node:crypto";
import { bearer, validateToken } from "../../common/transport/auth.js";
import type { Scope } from "./method-scopes.js";

/** The secrets a control plane accepts, one per credential (each optional). */
export interface Secrets {
  /** `--token`: everything (worker, client and read), as before scopes existed. */
  token?: string | undefined;
  /** `--client-token`: applications and admins: submit, cancel, retry, read. Not a worker. */
  clientToken?: string | undefined;
  /** `--worker-token`: workers only: register, receive assignments, report results. Reads nothing. */
  workerToken?: string | undefined;
  /** `--read-token`: dashboards, `/metrics` scrapers, `fw status`: reads only. */
  readToken?: string | undefined;
}

/** A credential's name, as its flag says it ("none": no credential configured, everything open). */
export type CredentialName = "token" | "client-token" | "worker-token" | "read-token" | "none";

/** What a caller proved: which credential, and the scopes it grants. */
export interface Grant {
  readonly credential: CredentialName;
  readonly scopes: ReadonlySet<Scope>;
}

/** The scopes each credential grants. */
export const CREDENTIAL_SCOPES: Readonly<Record<Exclude<CredentialName, "none">, readonly Scope[]>> = {
  token: ["worker", "client", "read"],
  "client-token": ["client", "read"],
  "worker-token": ["worker"],
  "read-token": ["read"],
};

const FLAG_OF: Record<keyof Secrets, Exclude<CredentialName, "none">> = {
  token: "token",
  clientToken: "client-token",
  workerToken: "worker-token",
  readToken: "read-token",
};

/** The grant when the control plane has no credential at all (tokenless, loopback by default). */
export const OPEN_GRANT: Grant = { credential: "none", scopes: new Set(["worker", "client", "read"]) };

/**
 * The credentials of a control plane: which bearer token proves which
 * credential. Tokens are compared as SHA-256 digests with timingSafeEqual,
 * and every configured one is compared on each check, so the time taken
 * says nothing about which token, or how much of one, matched.
 */
export class Credentials {
  private readonly entries: { digest: Buffer; grant: Grant }[];

  /** Throws (a message naming the flag) for a short or empty token, or two credentials sharing a secret. */
  constructor(secrets: Secrets) {
    const seen = new Map<string, string>();
    this.entries = [];
    for (const key of Object.keys(FLAG_OF) as (keyof Secrets)[]) {
      const secret = secrets[key];
      if (secret === undefined) continue;
      const name = FLAG_OF[key];
      validateToken(secret, `--${name}`);
      const other = seen.get(secret);
      if (other !== undefined) throw new Error(`--${other} and --${name} are the same secret; each credential needs its own, or its scopes mean nothing`);
      seen.set(secret, name);
      this.entries.push({ digest: digest(bearer(secret)), grant: { credential: name, scopes: new Set(CREDENTIAL_SCOPES[name]) } });
    }
  }

  /** True when at least one credential is configured (calls then need one). */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** The credentials configured, e.g. ["token", "worker-token"]. */
  get names(): CredentialName[] {
    return this.entries.map((e) => e.grant.credential);
  }

  /** Which configured credentials grant a scope. */
  granting(scope: Scope): CredentialName[] {
    return this.entries.filter((e) => e.grant.scopes.has(scope)).map((e) => e.grant.credential);
  }

  /**
   * What an `authorization` header proves: the open grant when no credential
   * is configured, the matching credential's grant, or undefined (missing
   * or wrong).
   */
  authenticate(header: string | undefined | null): Grant | undefined {
    if (this.entries.length === 0) return OPEN_GRANT;
    if (!header) return undefined;
    const actual = digest(header);
    let found: Grant | undefined;
    for (const entry of this.entries) {
      // No early exit: every entry is compared whichever matched.
      if (timingSafeEqual(actual, entry.digest)) found = entry.grant;
    }
    return found;
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
