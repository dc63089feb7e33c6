import { createSocket, type Socket } from "node:dgram";
import { networkInterfaces } from "node:os";
import { beaconKey, encodeBeacon, newNonce, validateClusterName } from "../../common/discovery/beacon.js";
import type { Logger } from "../../common/logger.js";
import { beaconRoutes, type BeaconRoute, type Interfaces } from "./beacon-routes.js";
import { IntervalLoop, type Loop } from "../loops/interval-loop.js";
import { hostPort } from "../transport/grpc-server.js";

/** Options for {@link BeaconSender}. */
export interface BeaconSenderOptions {
  cluster: string;
  /**
   * The control plane's tokens: each beacon goes out once per token, with an
   * HMAC keyed by it, so a listener holding any one of them can check it.
   * None: unsigned.
   */
  tokens?: readonly string[];
  /** Whether the ports serve TLS (beacons say so; listeners then dial grpcs:// and https://). */
  tls?: boolean;
  version: string;
  /** The address the control plane is bound to (an IP). */
  host: string;
  /** The bound gRPC and HTTP ports (real ones, after binding port 0). */
  grpcPort: number;
  httpPort: number;
  /** UDP port beacons are sent to. */
  port: number;
  /** --beacon-addr values; empty means the default for `host` (see beaconRoutes). */
  targets: readonly string[];
  intervalMs: number;
  logger: Logger;
  /** Where the interfaces come from (tests pass a fake). */
  interfaces?: () => Interfaces;
}

/**
 * Announces the control plane: every `intervalMs`, one UDP datagram per
 * route (see beaconRoutes) carrying the cluster, the reachable gRPC and
 * HTTP addresses, the version, a timestamp and a nonce, signed when there
 * is a token. Routes are worked out again each round, so an interface that
 * comes up later is announced on; the first beacon goes out as soon as the
 * socket is bound.
 */
export class BeaconSender implements Loop {
  private readonly loop: IntervalLoop;
  /** One signing key per token; [undefined] sends unsigned beacons. */
  private readonly keys: (Buffer | undefined)[];
  private readonly interfaces: () => Interfaces;
  private socket: Socket | undefined;
  private bound = false;
  private routes: BeaconRoute[];
  private readonly failing = new Set<string>();
  private lastSentAt = 0;

  constructor(private readonly options: BeaconSenderOptions) {
    validateClusterName(options.cluster);
    if (!(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)) throw new Error(`--beacon-port must be from 1 to 65535 (got ${options.port})`);
    if (!(options.intervalMs > 0)) throw new Error(`--beacon-interval must be a positive number of seconds (got ${options.intervalMs / 1000})`);
    this.keys = options.tokens !== undefined && options.tokens.length > 0 ? options.tokens.map(beaconKey) : [undefined];
    this.interfaces = options.interfaces ?? networkInterfaces;
    // Fail at startup, with the fix in the message, rather than send nothing.
    this.routes = beaconRoutes({ host: options.host, targets: options.targets, interfaces: this.interfaces() });
    this.loop = new IntervalLoop(options.intervalMs, (now) => this.runOnce(now), (err) => options.logger.error({ err }, "beacon sender failed"));
  }

  /** Where beacons go now, and what each announces. */
  get currentRoutes(): readonly BeaconRoute[] {
    return this.routes;
  }

  start(): void {
    if (this.socket !== undefined) return;
    const socket = createSocket({ type: "udp4" });
    this.socket = socket;
    socket.on("error", (err) => this.options.logger.warn({ err }, `beacon socket: ${err.message}`));
    socket.bind(0, () => {
      if (this.socket !== socket) return; // stopped while binding
      socket.setBroadcast(true);
      socket.unref();
      this.bound = true;
      const { port, intervalMs, cluster } = this.options;
      this.options.logger.info(
        { routes: this.routes, port, cluster, signed: this.keys[0] !== undefined, copies: this.keys.length },
        `announcing cluster ${cluster} by beacon every ${intervalMs / 1000}s on udp/${port} to ${this.routes.map((r) => `${r.target} (as ${r.announce})`).join(", ")}`,
      );
      this.runOnce(Date.now());
    });
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    const socket = this.socket;
    this.socket = undefined;
    this.bound = false;
    socket?.close();
  }

  /**
   * Announces now, out of turn (a listener's probe asked), at most once per
   * 100 ms whatever the number of probes; answers whether it did.
   */
  announceNow(now = Date.now()): boolean {
    if (now - this.lastSentAt < 100) return false;
    return this.runOnce(now) > 0;
  }

  /** Sends one beacon per route (and signing key); returns how many were handed to the socket. */
  runOnce(now: number): number {
    const socket = this.socket;
    if (socket === undefined || !this.bound) return 0;
    this.lastSentAt = now;
    this.refreshRoutes();
    const { cluster, version, grpcPort, httpPort, port, logger } = this.options;
    const tls = this.options.tls === true;
    let sent = 0;
    for (const { target, announce } of this.routes) for (const key of this.keys) {
      const datagram = encodeBeacon(
        { cluster, version, grpc: hostPort(announce, grpcPort), http: `${tls ? "https" : "http"}://${hostPort(announce, httpPort)}`, ts: now, nonce: newNonce(), tls },
        key,
      );
      sent++;
      socket.send(datagram, port, target, (err) => {
        if (err === null) {
          if (this.failing.delete(target)) logger.info(`beacons to ${target}:${port} go out again`);
          return;
        }
        const first = !this.failing.has(target);
        this.failing.add(target);
        logger[first ? "warn" : "debug"]({ err, target }, `cannot send a beacon to ${target}:${port}: ${err.message}`);
      });
    }
    return sent;
  }

  private refreshRoutes(): void {
    try {
      this.routes = beaconRoutes({ host: this.options.host, targets: this.options.targets, interfaces: this.interfaces() });
    } catch (err) {
      // The interfaces changed under us (e.g. the bound address went away): keep the last good routes and say so.
      this.options.logger.debug({ err }, "beacon routes could not be refreshed; keeping the previous ones");
    }
  }
}
