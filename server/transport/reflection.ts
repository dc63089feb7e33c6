import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ReflectionService } from "@grpc/reflection";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

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
  }  return definition as PackageDefinition;
}
