import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../common/logger.js";
import { file_fastworker_v1_task_service } from "../../gen/fastworker/v1/task_service_pb.js";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
import { listenOnLoopback, rawClient } from "../../test/helpers/loopback-grpc.js";
import { GuardedServer } from "./guarded-server.js";
import { addReflection, reflectionPackage } from "./reflection.js";

// Reflection mounted lazily answers as @grpc/reflection mounted at start does, on both versions.

const FILES = [file_fastworker_v1_task_service, file_grpc_health_v1_health];

const raw = (b: Buffer): Buffer => b;
/** ServerReflectionRequest { list_services: "" } (field 7). */
const LIST_SERVICES = Buffer.from([0x3a, 0x00]);
/** A tag whose varint never ends: even protobufjs's lenient decoder refuses it. */
const TRUNCATED = Buffer.from([0xff, 0xff, 0xff]);

/** A raw client of a GuardedServer that `mount` mounted reflection on. */
async function serve(mount: (server: grpc.Server) => void): Promise<grpc.Client> {
  const server = new GuardedServer();
  mount(server);
  return rawClient((await listenOnLoopback(server)).address);
}

/** Sends raw requests on one stream, half-closes, and resolves with the raw responses and the status. */
function exchange(c: grpc.Client, path: string, requests: Buffer[]): Promise<{ responses: Buffer[]; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const call = c.makeBidiStreamRequest(path, raw, raw);
    const responses: Buffer[] = [];
    call.on("data", (b: Buffer) => responses.push(b));
    call.on("error", () => undefined);
    call.on("status", (status: grpc.StatusObject) => resolve({ responses, status }));
    for (const request of requests) call.write(request);
    call.end();
  });
}

describe("addReflection", () => {
  it("mounts the paths @grpc/reflection mounts", () => {
    const paths = (mount: (recorder: Pick<grpc.Server, "addService">) => void): string[] => {
      const recorded: string[] = [];
      mount({ addService: (definition) => recorded.push(...Object.values(definition).map((m) => m.path)) });
      return recorded.sort();
    };
    expect(paths((recorder) => addReflection(recorder, FILES, silentLogger()))).toEqual(
      paths((recorder) => new ReflectionService(reflectionPackage(FILES)).addToServer(recorder)),
    );
  });

  for (const version of ["v1", "v1alpha"]) {
    const path = `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`;

    it(`answers ${version} requests byte for byte as the library mounted at start`, async () => {
      const requests = [LIST_SERVICES, LIST_SERVICES];
      const lazy = await exchange(await serve((s) => addReflection(s, FILES, silentLogger())), path, requests);
      const eager = await exchange(await serve((s) => new ReflectionService(reflectionPackage(FILES)).addToServer(s)), path, requests);
      expect(lazy.status.code).toBe(grpc.status.OK);
      expect(lazy.responses).toHaveLength(2);
      expect(lazy.responses[0]!.toString("latin1")).toContain("fastworker.v1.TaskService");
      expect(lazy.responses[0]!.toString("latin1")).toContain("grpc.health.v1.Health");
      expect(lazy.responses).toEqual(eager.responses);
    });

    it(`answers an undecodable ${version} request INVALID_ARGUMENT`, async () => {
      const { status } = await exchange(await serve((s) => addReflection(s, FILES, silentLogger())), path, [TRUNCATED]);
      expect([status.code, status.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringContaining(`the request to ${path} is not a valid message`)]);
    });
  }
});
