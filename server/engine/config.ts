/** Settings of the control plane's task engine (not its sockets). */
export interface EngineConfig {
  /** How long final tasks (results) are kept. */
  resultTtlMs: number;
  /** The most final tasks kept; the oldest are dropped first. */
  maxResults: number;
  /** How long an idempotency key is remembered after its task finished; at least resultTtlMs (0: resultTtlMs). */
  keyTtlMs: number;
  /** The largest args or result, in bytes of JSON text. */
  maxPayloadBytes: number;
  /** How often each worker is pinged on its dispatch stream (and answers with a heartbeat). */
  heartbeatIntervalMs: number;
  /** A worker with no proof of delivery for this long is lost; its attempts go to others. */
  leaseTimeoutMs: number;
  /** A worker whose dispatch stream closed and did not come back within this long is lost. */
  detachGraceMs: number;
  /** After this many lost attempts in a row a task fails (it may be what kills its workers). */
  maxLosses: number;
  /** The most tasks waiting to run (queued and scheduled); more submissions get RESOURCE_EXHAUSTED. */
  maxQueued: number;
  /** The most bytes of args of tasks waiting to run; more submissions get RESOURCE_EXHAUSTED. */
  maxQueuedBytes: number;
  /** How long past its timeout a running attempt may go unreported before the control plane fails it (TIMED_OUT). */
  timeoutGraceMs: number;
}

export const ENGINE_DEFAULTS: EngineConfig = Object.freeze({
  resultTtlMs: 3600_000,
  maxResults: 10_000,
  keyTtlMs: 0,
  maxPayloadBytes: 1024 * 1024,
  heartbeatIntervalMs: 1000,
  leaseTimeoutMs: 10_000,
  detachGraceMs: 5_000,
  maxLosses: 5,
  maxQueued: 1_000_000,
  maxQueuedBytes: 512 * 1024 * 1024,
  timeoutGraceMs: 30_000,
});

/** Fills defaults and rejects values that cannot work, with a message naming the setting. */
export function engineConfig(partial: Partial<EngineConfig> = {}): EngineConfig {
  const config = { ...ENGINE_DEFAULTS };
  for (const key of Object.keys(ENGINE_DEFAULTS) as (keyof EngineConfig)[]) {
    const value = partial[key];
    if (value !== undefined) config[key] = value;
  }
  const positive = (key: keyof EngineConfig, flag: string): void => {
    const value = config[key];
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number (got ${value})`);
  };
  positive("resultTtlMs", "--result-ttl");
  positive("maxResults", "--max-results");
  if (config.keyTtlMs === 0) config.keyTtlMs = config.resultTtlMs;
  if (!(config.keyTtlMs >= config.resultTtlMs)) {
    throw new Error(`--key-ttl (${config.keyTtlMs / 1000}s) must be at least --result-ttl (${config.resultTtlMs / 1000}s): a key is remembered at least as long as its result`);
  }
  positive("maxPayloadBytes", "--max-payload");
  positive("heartbeatIntervalMs", "--heartbeat-interval");
  positive("leaseTimeoutMs", "--lease-timeout");
  positive("detachGraceMs", "--detach-grace");
  positive("maxLosses", "max losses");
  positive("maxQueued", "--max-queued");
  positive("maxQueuedBytes", "--max-queued-bytes");
  positive("timeoutGraceMs", "--timeout-grace");
  if (config.leaseTimeoutMs < 3 * config.heartbeatIntervalMs) {
    throw new Error(
      `--lease-timeout (${config.leaseTimeoutMs / 1000}s) must be at least 3 heartbeat intervals (${(3 * config.heartbeatIntervalMs) / 1000}s)`,
    );
  }
  return config;
}
