import type { DescService } from "@bufbuild/protobuf";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const GEN = fileURLToPath(new URL("../../gen/", import.meta.url));

/**
 * Every service whose descriptor is in gen/ (found by walking the generated
 * modules, so a service added to the contract is fuzzed without a change
 * here), by package: fastworker's own (on both ports) and the rest (grpc.*,
 * on the gRPC port only).
 */
export async function generatedServices(): Promise<{ fastworker: DescService[]; other: DescService[] }> {
  const fastworker: DescService[] = [];
  const other: DescService[] = [];
  for (const file of readdirSync(GEN, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith("_pb.ts")) continue;
    const module = (await import(new URL(`../../gen/${file.replace(/\.ts$/, ".js")}`, import.meta.url).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      const desc = value as Partial<DescService>;
      if (desc?.kind !== "service" || desc.typeName === undefined) continue;
      (desc.typeName.startsWith("fastworker.") ? fastworker : other).push(desc as DescService);
    }
  }
  const byName = (a: DescService, b: DescService): number => a.typeName.localeCompare(b.typeName);
  return { fastworker: fastworker.sort(byName), other: other.sort(byName) };
}
