import { Child } from "../lib/child.js";
import type { DataRoot } from "../lib/data-root.js";
import { repoPath } from "../lib/paths.js";
import { REDIS_PERSISTENCE_ARGS, startRedisServer, type RedisPersistence } from "./redis-server.js";
import { allReady, profileFlags, withWorkers, type Deployment, type DeployOptions, type System, type SystemName } from "./system.js";

const READY_TIMEOUT_MS = 30_000;
const QUEUE = "bench";
/** QueueEvents reads everything since its last id, but the stream is trimmed to maxLen: leave room for ~4 events per job in flight. */
const EVENTS_MAX_LEN = 100_000;

/** One BullMQ variant: how its Redis persists. */
export interface BullmqVariant {
  name: SystemName;
  persistence: RedisPersistence;
  /** Where Redis's working directory (and AOF) goes. */
  dataRoot: DataRoot;
}

/**
 * BullMQ as usually deployed: a fresh redis-server (Debian's package) on a
 * free loopback port, with the variant's persistence, and worker processes
 * each running one BullMQ `Worker` with the same trivial processor and
 * concurrency.
 */
export function bullmqSystem(variant: BullmqVariant): System {
  return {
    name: variant.name,
    kind: "bullmq",
    description: `redis-server ${REDIS_PERSISTENCE_ARGS[variant.persistence].map((a) => (a === "" ? '""' : a)).join(" ")} --maxmemory-policy noeviction; BullMQ Queue/QueueEvents/Worker`,
    async deploy(options: DeployOptions): Promise<Deployment> {
      if (options.instrumented || (options.standbys ?? 0) > 0) throw new Error(`${variant.name}: no instrumented broker or standbys`);
      const redis = await startRedisServer({ persistence: variant.persistence, dataRoot: variant.dataRoot });
      const workers: Child[] = [];
      const deployment: Deployment = {
        system: variant.name,
        target: { system: "bullmq", host: "127.0.0.1", port: redis.port, queue: QUEUE, eventsMaxLen: EVENTS_MAX_LEN },
        broker: redis.child,
        standbys: [],
        workers,
        async startWorkers(count: number): Promise<void> {
          const started = Array.from({ length: count }, () => {
            const child = Child.start({
              name: `bullmq-worker-${workers.length + 1}`,
              command: process.execPath,
              args: [
                ...profileFlags(options.profileDir, "bullmq-worker"),
                repoPath("bench/workers/bullmq-worker.mjs"),
                "--port", String(redis.port),
                "--queue", QUEUE,
                "--concurrency", String(options.concurrency),
                ...(options.shape === undefined ? [] : ["--instances", String(options.shape.connectionsPerProcess), "--echo"]),
              ],
              cwd: repoPath(""),
            });
            workers.push(child);
            return child;
          });
          await allReady(started, (child) => child.waitForLine(/^bullmq-worker ready /, READY_TIMEOUT_MS));
        },
        async stop(): Promise<void> {
          await Promise.all(workers.map((w) => w.stop({ graceMs: 15_000 })));
          await redis.stop();
        },
      };
      return withWorkers(deployment, options.workers);
    },
  };
}
