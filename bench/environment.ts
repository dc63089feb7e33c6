import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";
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

/** Describes this machine and the versions under test. */
export function describeEnvironment(redisVersion: string | undefined): Environment {
  const own = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { version: string };
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    redis: redisVersion,
    fastworker: own.version,
    bullmq: packageVersion("bullmq"),
    ioredis: packageVersion("ioredis"),
    grpcJs: packageVersion("@grpc/grpc-js"),
    gitCommit: git(["rev-parse", "--short", "HEAD"]),
    gitDirty: status === undefined ? undefined : status.length > 0,
  };
}
