import { BeaconListener } from "./beacon-listener.js";
import { describeDiscovery, waitForBeacon, type DiscoveryOptions } from "./discover.js";
import type { Logger } from "../logger.js";

/**
 * Where a worker dials the control plane: asked again before every
 * (re)connect, so a worker that found its control plane by beacon follows
 * it when it moves.
 */
export interface ServerLocator {
  /** The address to dial now; may wait (abortably) until one is known. */
  resolve(signal: AbortSignal): Promise<string>;
  /** Releases what it holds (a socket). */
  close(): Promise<void>;
}

/** A locator for an address given explicitly (--server): never changes. */
export function fixedServer(address: string): ServerLocator {
  return { resolve: () => Promise.resolve(address), close: () => Promise.resolve() };
}

/** Options for {@link BeaconLocator}. */
export interface BeaconLocatorOptions extends DiscoveryOptions {
  token?: string | undefined;
  logger: Logger;
}

/**
 * Finds the control plane by beacon and keeps listening: the first resolve()
 * waits for a valid beacon of the cluster (logging progress, failing after
 * `timeoutMs` if set); later ones answer the address in the newest beacon,
 * so after a lost connection the worker dials wherever the control plane
 * announces itself now.
 */
export class BeaconLocator implements ServerLocator {
  private readonly listener: BeaconListener;
  private handedOut: string | undefined;

  constructor(private readonly options: BeaconLocatorOptions) {
    this.listener = new BeaconListener({ ...options, logger: options.logger });
  }

  async resolve(signal: AbortSignal): Promise<string> {
    await this.listener.start();
    const { logger, timeoutMs } = this.options;
    const discovery = await waitForBeacon(this.listener, {
      signal,
      timeoutMs: this.handedOut === undefined ? timeoutMs : undefined,
      onProgress: (status, elapsedMs) => logger[elapsedMs === 0 ? "info" : "warn"](status),
      progressIntervalMs: 10_000,
    });
    if (discovery.address !== this.handedOut) {
      if (this.handedOut === undefined) logger.info({ server: discovery.address }, describeDiscovery(discovery));
      else {
        const { from, port, beacon } = discovery.heard;
        logger.info({ server: discovery.address, previous: this.handedOut }, `following the control plane to ${discovery.address} (beacon from ${from} on udp/${port}, version ${beacon.version}); it was at ${this.handedOut}`);
      }
      this.handedOut = discovery.address;
    }
    return discovery.address;
  }

  close(): Promise<void> {
    return this.listener.stop();
  }
}
