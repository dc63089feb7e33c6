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
  /**
   * Dialling `address` failed (unreachable, or a standby that named the
   * group's `leader`): the next resolve() answers another address.
   */
  failed?(address: string, leader?: string): void;
  /** Releases what it holds (a socket). */
  close(): Promise<void>;
}

/** A locator for an address given explicitly (--server): never changes. */
export function fixedServer(address: string): ServerLocator {
  return { resolve: () => Promise.resolve(address), close: () => Promise.resolve() };
}

/** The addresses of `--server a,b,c` (or FW_SERVER): split at commas, trimmed, empty ones dropped. */
export function parseServers(value: string | readonly string[]): string[] {
  const list = (typeof value === "string" ? [value] : value).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  if (list.length === 0) throw new Error("no control-plane address given: pass host:port, or several separated by commas");
  return [...new Set(list)];
}

/**
 * The control planes of a group, given by address (`--server a,b,c`): answers
 * one until it fails, then the next, round and round; a standby's refusal
 * that names the leader jumps straight to it (adding it when it was not
 * listed). One address behaves like {@link fixedServer}.
 */
export class ServerList implements ServerLocator {
  private readonly addresses: string[];
  private index = 0;

  constructor(addresses: readonly string[]) {
    this.addresses = parseServers(addresses);
  }

  /** The address to use now. */
  get current(): string {
    return this.addresses[this.index]!;
  }

  /** The addresses it knows, in order. */
  get all(): readonly string[] {
    return this.addresses;
  }

  /** How many addresses it knows. */
  get size(): number {
    return this.addresses.length;
  }

  resolve(): Promise<string> {
    return Promise.resolve(this.current);
  }

  failed(address: string, leader?: string): void {
    if (address !== this.current) return; // already moved on
    if (leader !== undefined && leader !== address) {
      const known = this.addresses.indexOf(leader);
      this.index = known >= 0 ? known : this.addresses.push(leader) - 1;
      return;
    }
    this.index = (this.index + 1) % this.addresses.length;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
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
