import { Code } from "@connectrpc/connect";
import { UNAUTHENTICATED_MESSAGE } from "../../common/transport/auth.js";
import type { AuditLog } from "../telemetry/audit-log.js";
import type { Credentials, Grant } from "./credentials.js";
import { requirementOf, type Requirement } from "./method-scopes.js";

/** One call (or HTTP route request) to check. */
export interface AccessRequest {
  /** "/pkg.Service/Method", or a route such as "/metrics". */
  path: string;
  /** The `authorization` header as received. */
  header: string | undefined | null;
  /** Where the call came from, for the audit line. */
  peer: string;
  /**
   * What a path without a row needs. Unset (every RPC): refused. The HTTP
   * port sets "read" for routes an embedder adds through startServer's
   * `routes` option.
   */
  unlisted?: Requirement;
}

/** Allowed, with what the caller proved; or refused, with the status to answer. */
export type Verdict = { ok: true; grant: Grant } | { ok: false; code: Code.Unauthenticated | Code.PermissionDenied; message: string };

/** A caller of a public method (health) who proved nothing. */
const ANONYMOUS: Grant = { credential: "none", scopes: new Set() };

/**
 * The one decision both ports make before any handler runs: does this
 * caller's credential grant the scope the method's row in METHOD_SCOPES
 * asks for? A method without a row is refused to everyone. Refusals are
 * audit lines (rate-limited); the token itself is never logged.
 */
export class AccessControl {
  constructor(
    readonly credentials: Credentials,
    private readonly audit: AuditLog,
  ) {}

  check(request: AccessRequest): Verdict {
    const { path, header, peer } = request;
    const requirement = requirementOf(path) ?? request.unlisted;
    if (requirement === undefined) {
      this.audit.limited("auth-failure", "warn", { peer, method: path, reason: "unmapped" }, `refused ${path}: it has no row in the access table`);
      return {
        ok: false,
        code: Code.PermissionDenied,
        message: `${path} has no entry in the control plane's access table (server/transport/method-scopes.ts), so nobody may call it`,
      };
    }
    const grant = this.credentials.authenticate(header);
    if (requirement === "public") return { ok: true, grant: grant ?? ANONYMOUS };
    if (grant === undefined) {
      const reason = header ? "wrong token" : "missing token";
      this.audit.limited("auth-failure", "warn", { peer, method: path, reason }, `refused ${path} from ${peer}: ${reason}`);
      return { ok: false, code: Code.Unauthenticated, message: UNAUTHENTICATED_MESSAGE };
    }
    if (!grant.scopes.has(requirement)) {
      this.audit.limited("auth-failure", "warn", { peer, method: path, credential: grant.credential, reason: "scope" }, `refused ${path} from ${peer}: --${grant.credential} lacks the ${requirement} scope`);
      const granting = this.credentials.granting(requirement).map((c) => `--${c}`);
      return {
        ok: false,
        code: Code.PermissionDenied,
        message:
          `this token is the control plane's --${grant.credential}, which may not call ${path.replace(/^\//, "")}: ` +
          `that needs the ${requirement} scope, which ${granting.length > 0 ? granting.join(" or ") : "no credential of this control plane"} grants`,
      };
    }
    return { ok: true, grant };
  }
}
