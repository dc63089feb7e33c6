import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";
import type { DataRoot } from "./lib/data-root.js";
import { repoPath } from "./lib/paths.js";

/** Where and with what a run was made: recorded in every results file. */
export interface Environment {
  node: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  /** 1, 5 and 15 minute load averages when the run started (a busy machine makes noisy numbers). */
  loadAverage: number[];
  redis: string | undefined;
  /** The PostgreSQL the fastworker-pg runs used, with the settings that decide a commit's cost. */
  postgres: { version: string; settings: Record<string, string> } | undefined;
  /** Where durable systems kept their files, and that filesystem's type (tmpfs would make fsync free). */
  dataRoot: DataRoot;
  fastworker: string;
  bullmq: string;
  ioredis: string;
  grpcJs: string;
  gitCommit: string | undefined;
  gitDirty: boolean | undefined;
}

function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(repoPath(`node_modules/${name}/package.json`), "utf8")) as { version: string };
  return pkg.version;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd: repoPath(""), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined; // not a git checkout
  }
}

/** What a bench run knows about its services when it describes the environment. */
export interface ServiceVersions {
  redis: string | undefined;
  postgres: Environment["postgres"];
  dataRoot: DataRoot;
}

/** Describes this machine and the versions under test. */
export function describeEnvironment(services: ServiceVersions): Environment {
  const own = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { version: string };
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    redis: services.redis,
    postgres: services.postgres,
    dataRoot: services.dataRoot,
    fastworker: own.version,
    bullmq: packageVersion("bullmq"),
    ioredis: packageVersion("ioredis"),
    grpcJs: packageVersion("@grpc/grpc-js"),
    gitCommit: git(["rev-parse", "--short", "HEAD"]),
    gitDirty: status === undefined ? undefined : status.length > 0,
  };
}
