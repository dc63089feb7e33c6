import { Code, ConnectError } from "@connectrpc/connect";
import { BeaconListener, type HeardBeacon } from "./beacon-listener.js";
import type { Beacon } from "./beacon.js";
import type { Logger } from "../logger.js";

/** How to find a control plane by beacon. Each setting also has an environment variable, read by the commands and Client.discover. */
export interface DiscoveryOptions {
  /** The cluster to join (default "default"; FW_CLUSTER). */
  cluster?: string;
  /** UDP port beacons arrive on (default 50051; FW_BEACON_PORT). */
  port?: number;
  /** Give up after this long; 0 or undefined waits as long as it takes. */
  timeoutMs?: number;
  /** Beacons further than this from our clock are stale (default 30 s). */
  maxAgeMs?: number;
}

/** Options for {@link discoverControlPlane}. */
export interface DiscoverOptions extends DiscoveryOptions {
  /** Only beacons signed with this token are accepted. */
  token?: string | undefined;
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called when listening starts and every `progressIntervalMs` while waiting, with a line for people. */
  onProgress?: (status: string, elapsedMs: number) => void;
  /** Default 5 s. */
  progressIntervalMs?: number;
  logger?: Logger;
}

/** A control plane found by beacon. */
export interface Discovery {
  /** Its gRPC port, as what to dial: host:port, or grpcs://host:port when it announced TLS. */
  address: string;
  /** The beacon it was found by. */
  heard: HeardBeacon;
  /** How long the wait took. */
  elapsedMs: number;
}

/**
 * Finds the control plane of a cluster: listens for its first valid beacon
 * and answers where to dial. Fails with UNAVAILABLE and a message naming the
 * port listened on, what was heard, and what to check, after `timeoutMs`.
 */
export async function discoverControlPlane(options: DiscoverOptions = {}): Promise<Discovery> {
  const listener = new BeaconListener({ ...options, logger: options.logger });
  await listener.start();
  try {
    return await waitForBeacon(listener, options);
  } finally {
    await listener.stop();
  }
}

/** Waits on a started listener for its first beacon (or returns the latest one it already has). */
export async function waitForBeacon(listener: BeaconListener, options: Omit<DiscoverOptions, "cluster" | "port" | "token" | "maxAgeMs"> = {}): Promise<Discovery> {
  const started = Date.now();
  const found = (heard: HeardBeacon): Discovery => ({ address: beaconAddress(heard.beacon), heard, elapsedMs: Date.now() - started });
  if (listener.latest !== undefined) return found(listener.latest);
  const looking = `looking for the control plane of cluster ${listener.cluster}: listening for beacons on udp/${listener.port}`;
  options.onProgress?.(looking, 0);
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort(options.signal!.reason);
  if (options.signal?.aborted) throw options.signal.reason;
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const progress = setInterval(() => {
    const elapsed = Date.now() - started;
    options.onProgress?.(`still waiting for a beacon of cluster ${listener.cluster} on udp/${listener.port} (${(elapsed / 1000).toFixed(0)}s; ${listener.summary() || "heard nothing"})`, elapsed);
  }, options.progressIntervalMs ?? 5000);
  progress.unref();
  let timer: NodeJS.Timeout | undefined;
  if (options.timeoutMs) {
    const timeoutMs = options.timeoutMs;
    timer = setTimeout(() => abort.abort(new ConnectError(notFoundMessage(listener, timeoutMs), Code.Unavailable)), timeoutMs);
  }
  try {
    return found(await listener.next(abort.signal));
  } finally {
    clearInterval(progress);
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** What to dial for a beacon: its gRPC address, with the grpcs:// scheme when it announced TLS. */
export function beaconAddress(beacon: Beacon): string {
  return beacon.tls === true ? `grpcs://${beacon.grpc}` : beacon.grpc;
}

/** One line for people: which control plane, found how, how fast. */
export function describeDiscovery(discovery: Discovery): string {
  const { beacon, from, port, verified } = discovery.heard;
  return (
    `found control plane ${beaconAddress(beacon)} (cluster ${beacon.cluster}, version ${beacon.version}) ` +
    `by ${verified ? "signed " : ""}beacon from ${from} on udp/${port} after ${(discovery.elapsedMs / 1000).toFixed(1)}s`
  );
}

function notFoundMessage(listener: BeaconListener, timeoutMs: number): string {
  const heard = listener.summary();
  return (
    `no control plane of cluster ${listener.cluster} found: listened for beacons on udp/${listener.port} for ${(timeoutMs / 1000).toFixed(1)}s ` +
    `and heard none of it${heard ? ` (${heard})` : ""}. ` +
    `Check that fw-server runs with --cluster ${listener.cluster} and discovery on, that its beacons reach this network ` +
    `(--beacon-addr; they do not cross routers) on udp/${listener.port} (--beacon-port, firewall), ` +
    `or give its address with --server HOST:PORT (FW_SERVER)`
  );
}
