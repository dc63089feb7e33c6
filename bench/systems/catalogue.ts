import type { DataRoot } from "../lib/data-root.js";
import type { SystemKind } from "../producer/protocol.js";
import { bullmqSystem } from "./bullmq.js";
import { fastworkerSystem } from "./fastworker.js";
import { startPostgres, type PostgresServer } from "./postgres-server.js";
import { ensureRedisServer } from "./redis-server.js";
import { SYSTEM_NAMES, type System, type SystemName } from "./system.js";

/** `npm run bench` with no `--system`: fastworker in memory vs BullMQ without persistence (issues 1–7). */
export const DEFAULT_SYSTEMS: readonly SystemName[] = ["fastworker", "bullmq"];
/** `--durability`: all five, same run, same topology (issues 11 and 14). */
export const DURABILITY_SYSTEMS: readonly SystemName[] = SYSTEM_NAMES;

/** The producer protocol of each system. */
export const SYSTEM_KINDS: Record<SystemName, SystemKind> = {
  fastworker: "fastworker",
  "fastworker-durable": "fastworker",
  "fastworker-pg": "fastworker",
  bullmq: "bullmq",
  "bullmq-aof": "bullmq",
};

/** What the systems of one bench run share: where files go, and the services started once per bench run. */
export interface SharedServices {
  dataRoot: DataRoot;
  /** Set when a BullMQ system runs: redis-server's version (each run starts its own redis-server). */
  redisVersion?: string;
  /** Set when fastworker-pg runs: one PostgreSQL for the whole bench run, a fresh database per run. */
  postgres?: PostgresServer;
}

const CATALOGUE: Record<SystemName, (services: SharedServices) => System> = {
  fastworker: () => fastworkerSystem({ name: "fastworker", store: { kind: "memory" } }),
  "fastworker-durable": (s) => fastworkerSystem({ name: "fastworker-durable", store: { kind: "data-dir", root: s.dataRoot } }),
  "fastworker-pg": (s) => {
    if (s.postgres === undefined) throw new Error("fastworker-pg needs the PostgreSQL server (startServices)");
    return fastworkerSystem({ name: "fastworker-pg", store: { kind: "postgres", server: s.postgres } });
  },
  bullmq: (s) => bullmqSystem({ name: "bullmq", persistence: "none", dataRoot: s.dataRoot }),
  "bullmq-aof": (s) => bullmqSystem({ name: "bullmq-aof", persistence: "aof-everysec", dataRoot: s.dataRoot }),
};

/** Checks that the named systems can run here and starts what they share (PostgreSQL); stop it with {@link stopServices}. */
export async function startServices(names: readonly SystemName[], dataRoot: DataRoot): Promise<SharedServices> {
  const services: SharedServices = { dataRoot };
  if (names.some((n) => SYSTEM_KINDS[n] === "bullmq")) services.redisVersion = ensureRedisServer();
  if (names.includes("fastworker-pg")) services.postgres = await startPostgres(dataRoot);
  return services;
}

/** Stops what {@link startServices} started. */
export async function stopServices(services: SharedServices): Promise<void> {
  await services.postgres?.stop();
}

/** The systems under test, by name. */
export function createSystems(names: readonly SystemName[], services: SharedServices): Map<SystemName, System> {
  return new Map(names.map((name) => [name, CATALOGUE[name](services)]));
}
