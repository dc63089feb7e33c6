import { createRequire } from "node:module";
import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import type { ReflectionService } from "@grpc/reflection";
import type { Logger } from "../../common/logger.js";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

// @grpc/reflection is CommonJS: a synchronous require lets the first call load it from inside grpc-js's callbacks.
const require = createRequire(import.meta.url);

/** The versions of the reflection service mounted: grpcurl and `buf curl` ask for v1, older tools for v1alpha. */
const PATHS = ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"];

/** One method as @grpc/reflection registers it: its grpc-js definition and handler. */
interface MountedMethod {
  definition: grpc.MethodDefinition<unknown, unknown>;
  handler: grpc.UntypedHandleCall;
}

/**
 * Mounts server reflection (v1 and v1alpha) describing `files`, served by
 * @grpc/reflection, which is loaded at the first reflection call rather than
 * at start.
 *
 * Why lazily: the library and what it brings (@grpc/proto-loader,
 * protobufjs: about 50 modules) are needed only when a tool such as grpcurl
 * or `buf curl` asks; a control plane nobody inspects does not carry them
 * (see server/transport/health.ts for the measured saving).
 *
 * How: the paths are registered at once with methods that forward to the
 * library's own. The first call of either path (its handler, or a decode or
 * encode, whichever grpc-js runs first) requires the library, builds its
 * service and lets it register on a recorder instead of the server: its
 * definitions (proto-loader's codecs) and handlers are then used as they are,
 * so requests are decoded (an undecodable one is INVALID_ARGUMENT, through
 * the GuardedServer) and answered exactly as if it had been mounted at start.
 * Should the library fail to load (a broken install), the call is answered
 * INTERNAL and the error logged; the rest of the server is unaffected.
 */
export function addReflection(server: Pick<grpc.Server, "addService">, files: readonly DescFile[], logger: Logger): void {
  let mounted: Map<string, MountedMethod> | undefined;
  const method = (path: string): MountedMethod => {
    mounted ??= loadReflection(files);
    const found = mounted.get(path);
    if (found === undefined) throw new Error(`@grpc/reflection did not register ${path}`);
    return found;
  };
  for (const path of PATHS) {
    const definition: grpc.MethodDefinition<unknown, unknown> = {
      path,
      originalName: "serverReflectionInfo",
      requestStream: true,
      responseStream: true,
      requestSerialize: (value) => method(path).definition.requestSerialize(value),
      requestDeserialize: (bytes) => method(path).definition.requestDeserialize(bytes),
      responseSerialize: (value) => method(path).definition.responseSerialize(value),
      responseDeserialize: (bytes) => method(path).definition.responseDeserialize(bytes),
    };
    const handler = ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
      let mountedMethod: MountedMethod;
      try {
        mountedMethod = method(path);
      } catch (err) {
        logger.error({ err, method: path }, "server reflection could not be loaded");
        call.emit("error", { code: grpc.status.INTERNAL, details: "server reflection is not available; see the control plane's log" });
        return;
      }
      (mountedMethod.handler as grpc.handleBidiStreamingCall<unknown, unknown>)(call);
    }) as grpc.UntypedHandleCall;
    server.addService({ ServerReflectionInfo: definition }, { ServerReflectionInfo: handler });
  }
}

/** Requires @grpc/reflection, builds its service for `files`, and records what it would mount, by path. */
function loadReflection(files: readonly DescFile[]): Map<string, MountedMethod> {
  const { ReflectionService: Service } = require("@grpc/reflection") as typeof import("@grpc/reflection");
  const mounted = new Map<string, MountedMethod>();
  const recorder: Pick<grpc.Server, "addService"> = {
    addService(service, implementation) {
      for (const [name, definition] of Object.entries(service)) {
        const handler = implementation[name];
        if (handler !== undefined) mounted.set(definition.path, { definition, handler });
      }
    },
  };
  new Service(reflectionPackage(files)).addToServer(recorder);
  return mounted;
}

/**
 * The package definition @grpc/reflection reads, built from protobuf-es file
 * descriptors (it only needs the serialized FileDescriptorProtos), so
 * reflection serves exactly the generated schema with no .proto files at
 * run time.
 */
export function reflectionPackage(files: readonly DescFile[]): PackageDefinition {
  const seen = new Set<string>();
  const protos: Uint8Array[] = [];
  const visit = (file: DescFile): void => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dependency of file.dependencies) visit(dependency);
    protos.push(toBinary(FileDescriptorProtoSchema, file.proto));
  };
  files.forEach(visit);
  const definition: Record<string, unknown> = {};
  for (const file of files) {
    for (const service of file.services) {
      definition[service.typeName] = { fileDescriptorProtos: protos.map((p) => Buffer.from(p)) };
    }
  }
  return definition as PackageDefinition;
}
