import { Child } from "../lib/child.js";
import { repoPath } from "../lib/paths.js";
import { startRedisServer } from "./redis-server.js";
import { allReady, profileFlags, withWorkers, type Deployment, type DeployOptions, type System } from "./system.js";

const READY_TIMEOUT_MS = 30_000;
const QUEUE = "bench";
/** QueueEvents reads everything since its last id, but the stream is trimmed to maxLen: leave room for ~4 events per job in flight. */
const EVENTS_MAX_LEN = 100_000;

/**
 * BullMQ as usually deployed: a fresh redis-server (Debian's package) on a
 * free loopback port, and worker processes each running one BullMQ `Worker`
 * with the same trivial processor and concurrency.
 */
export const bullmq: System = {
  name: "bullmq",
  async deploy(options: DeployOptions): Promise<Deployment> {
    const redis = await startRedisServer();
    const workers: Child[] = [];
    const deployment: Deployment = {
      system: "bullmq",
      target: { system: "bullmq", host: "127.0.0.1", port: redis.port, queue: QUEUE, eventsMaxLen: EVENTS_MAX_LEN },
      broker: redis.child,
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
