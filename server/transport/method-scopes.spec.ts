import type { DescFile } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import { AuditLog } from "../telemetry/audit-log.js";
import { silentLogger } from "../../common/logger.js";
import { AccessControl } from "./access-control.js";
import { Credentials } from "./credentials.js";
import { METHOD_SCOPES, requirementOf } from "./method-scopes.js";
import { reflectionPackage } from "./reflection.js";

/** Every generated file that declares a service: a new *_service.proto is covered without editing this test. */
const GEN = new URL("../../gen/fastworker/v1/", import.meta.url);
const serviceFiles = await Promise.all(
  readdirSync(GEN)
    .filter((name) => name.endsWith("_service_pb.ts"))
    .map(async (name) => Object.values((await import(new URL(name, GEN).href)) as Record<string, unknown>).find((v): v is DescFile => (v as DescFile)?.kind === "file")!),
);
const FILES: DescFile[] = [...serviceFiles, file_grpc_health_v1_health];

/** Every method path of every service in the generated descriptors. */
const descriptorPaths = FILES.flatMap((f) => f.services.flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`)));

/** Every path the gRPC port mounts besides the descriptors' (health is one of those): what reflection registers on a server. */
function libraryPaths(): string[] {
  const paths: string[] = [];
  const recorder: Pick<grpc.Server, "addService"> = { addService: (definition) => paths.push(...Object.values(definition).map((m) => m.path)) };
  new ReflectionService(reflectionPackage(FILES)).addToServer(recorder);
  return paths;
}

describe("the access table (METHOD_SCOPES)", () => {
  it("has a row for every method of every service descriptor (health's included), and for what reflection mounts", () => {
    const mounted = [...descriptorPaths, ...libraryPaths()];
    expect(mounted.length).toBeGreaterThan(15);
    const missing = mounted.filter((path) => requirementOf(path) === undefined);
    expect(missing, "methods without a row: add them to server/transport/method-scopes.ts").toEqual([]);
  });

  it("has no row for a method that does not exist (a renamed RPC must not leave its old row behind)", () => {
    const known = new Set([...descriptorPaths, ...libraryPaths(), "/metrics"]);
    expect(Object.keys(METHOD_SCOPES).filter((path) => !known.has(path))).toEqual([]);
  });

  it("lets read-only credentials change nothing: every method of theirs is a read", () => {
    const reads = Object.entries(METHOD_SCOPES).filter(([, r]) => r === "read").map(([p]) => p.split("/").pop());
    for (const name of reads) expect(name, `${name} is in the read scope`).toMatch(/^(Get|List|Wait|Watch|ServerReflectionInfo|metrics)/);
  });
});

describe("AccessControl", () => {
  const tokens = {
    token: "admin-0123456789abcdef",
    clientToken: "client-0123456789abcdef",
    workerToken: "worker-0123456789abcdef",
    readToken: "reader-0123456789abcdef",
  };
  const access = new AccessControl(new Credentials(tokens), new AuditLog(silentLogger()));
  const call = (path: string, token?: string) => access.check({ path, header: token === undefined ? undefined : `Bearer ${token}`, peer: "127.0.0.1:1" });

  it("grants each credential exactly its scopes, on every method", () => {
    const expected: Record<string, Record<string, boolean>> = {
      token: { read: true, client: true, worker: true },
      clientToken: { read: true, client: true, worker: false },
      workerToken: { read: false, client: false, worker: true },
      readToken: { read: true, client: false, worker: false },
    };
    for (const [path, requirement] of Object.entries(METHOD_SCOPES)) {
      for (const [name, token] of Object.entries(tokens)) {
        const verdict = call(path, token);
        const allowed = requirement === "public" || expected[name]![requirement]!;
        expect(verdict.ok, `${name} on ${path}`).toBe(allowed);
        if (!verdict.ok) {
          expect(verdict).toMatchObject({ code: 7 });
          expect(verdict.message).toMatch(new RegExp(`which may not call ${path.slice(1)}: that needs the ${requirement} scope, which .*--token`));
        }
      }
      // No token, or a wrong one: only public methods.
      expect(call(path).ok, `anonymous on ${path}`).toBe(requirement === "public");
      const wrong = call(path, "wrong-0123456789abcdef");
      expect(wrong.ok).toBe(requirement === "public");
      if (!wrong.ok) expect(wrong).toMatchObject({ code: 16, message: expect.stringMatching(/^missing or wrong token/) });
    }
  });

  it("refuses a method without a row to everyone (fail closed), even without credentials", () => {
    for (const credentials of [new Credentials(tokens), new Credentials({})]) {
      const verdict = new AccessControl(credentials, new AuditLog(silentLogger())).check({ path: "/fastworker.v1.TaskService/DropEverything", header: `Bearer ${tokens.token}`, peer: "p" });
      expect(verdict).toMatchObject({ ok: false, code: 7, message: expect.stringMatching(/no entry in the control plane's access table/) });
    }
  });

  it("without any credential, lets everyone call every mapped method", () => {
    const open = new AccessControl(new Credentials({}), new AuditLog(silentLogger()));
    for (const path of Object.keys(METHOD_SCOPES)) expect(open.check({ path, header: undefined, peer: "p" }).ok).toBe(true);
  });
});

describe("Credentials", () => {
  it("refuses empty, short and shared secrets, naming the flag", () => {
    expect(() => new Credentials({ token: "" })).toThrow(/^--token is empty; an empty token does not turn authentication off/);
    expect(() => new Credentials({ readToken: "short" })).toThrow(/^--read-token is 5 characters; use at least 16/);
    expect(() => new Credentials({ token: "same-0123456789abcdef", workerToken: "same-0123456789abcdef" })).toThrow(/--token and --worker-token are the same secret/);
  });
});
