import { Code, ConnectError } from "@connectrpc/connect";
import { createSocket, type Socket } from "node:dgram";
import { EventEmitter } from "node:events";
import { silentLogger, type Logger } from "../logger.js";
import {
  BEACON_REJECTIONS,
  beaconKey,
  decodeBeacon,
  DEFAULT_BEACON_PORT,
  encodeProbe,
  isProbe,
  newNonce,
  validateClusterName,
  type Beacon,
  type BeaconRejection,
} from "./beacon.js";
import { ReplayGuard } from "./replay-guard.js";

/** Options for {@link BeaconListener}. */
export interface BeaconListenerOptions {
  /** Only beacons of this cluster are accepted (default "default"). */
  cluster?: string;
  /** When set, only beacons signed with this token are accepted. */
  token?: string | undefined;
  /** UDP port to listen on (default 50051). */
  port?: number;
  /** Address to bind (default 0.0.0.0: broadcasts arrive only on a wildcard bind). */
  bindAddress?: string;
  /** Beacons further than this from our clock are stale (default 30 s, for clock skew between hosts). */
  maxAgeMs?: number;
  /**
   * Where to send a probe when listening starts, so control planes of the
   * cluster announce themselves at once (default ["127.255.255.255"]: the
   * control planes of this machine; [] sends none). Others are heard at
   * their next beacon.
   */
  probe?: readonly string[];
  logger?: Logger;
}

/** A beacon that passed every check, and where it came from. */
export interface HeardBeacon {
  beacon: Beacon;
  /** Source address and port of the datagram. */
  from: string;
  fromPort: number;
  /** The UDP port it arrived on. */
  port: number;
  /** Whether its signature was checked against our token. */
  verified: boolean;
  receivedAt: number;
}

/** What a listener has heard: accepted, ignored (other clusters) and rejected beacons by reason. */
export interface BeaconCounters {
  accepted: number;
  otherCluster: number;
  rejected: Record<BeaconRejection, number>;
}

/** Events a BeaconListener emits. */
export interface BeaconListenerEventMap {
  /** A valid beacon of our cluster. */
  beacon: [heard: HeardBeacon];
}

const beacons = (n: number): string => `${n} beacon${n === 1 ? "" : "s"}`;

const HINTS: Record<BeaconRejection, string> = {
  malformed: "not valid beacons",
  "unsupported-version": "from another fastworker format version (upgrade one side)",
  unsigned: "unsigned (does the control plane have the same --token?)",
  "bad-signature": "with a signature that does not match (is --token the control plane's?)",
  stale: "stale or from the future (are the clocks of the two machines in sync?)",
  replayed: "replayed",
};

/**
 * Listens for control-plane beacons on a UDP port. Binds with SO_REUSEADDR
 * so that every worker, CLI and client on a host hears the same broadcast.
 * Drops, and counts by reason, anything that is not a fresh beacon of its
 * cluster signed with its token; logs the first drop of each kind (later
 * ones at debug) so a flood of garbage cannot flood the log.
 */
export class BeaconListener extends EventEmitter<BeaconListenerEventMap> {
  readonly cluster: string;
  readonly port: number;
  readonly counters: BeaconCounters = { accepted: 0, otherCluster: 0, rejected: Object.fromEntries(BEACON_REJECTIONS.map((r) => [r, 0])) as Record<BeaconRejection, number> };
  /** Cluster names heard on this port that are not ours (at most 10 kept), for "wrong cluster?" hints. */
  readonly otherClusters = new Set<string>();
  /** The newest accepted beacon. */
  latest: HeardBeacon | undefined;
  private readonly key: Buffer | undefined;
  private readonly guard: ReplayGuard;
  private readonly bindAddress: string;
  private readonly logger: Logger;
  private readonly probeTargets: readonly string[];
  private socket: Socket | undefined;
  private starting: Promise<this> | undefined;
  private waiters = 0;
  /** Reasons already logged at warn (later ones go to debug). */
  private readonly warned = new Set<BeaconRejection>();

  constructor(options: BeaconListenerOptions = {}) {
    super();
    this.cluster = validateClusterName(options.cluster ?? "default");
    this.port = options.port ?? DEFAULT_BEACON_PORT;
    if (!(Number.isInteger(this.port) && this.port >= 1 && this.port <= 65535)) throw new Error(`the beacon port must be from 1 to 65535 (got ${this.port})`);
    this.key = options.token ? beaconKey(options.token) : undefined;
    this.guard = new ReplayGuard({ maxAgeMs: options.maxAgeMs ?? 30_000 });
    this.bindAddress = options.bindAddress ?? "0.0.0.0";
    this.logger = options.logger ?? silentLogger();
    this.probeTargets = options.probe ?? ["127.255.255.255"];
  }

  /** Binds the UDP port; resolves once listening. Idempotent. */
  start(): Promise<this> {
    this.starting ??= new Promise<this>((resolve, reject) => {
      const socket = createSocket({ type: "udp4", reuseAddr: true });
      const onBindError = (err: Error): void => {
        socket.close();
        this.socket = undefined;
        reject(new ConnectError(`cannot listen for beacons on udp/${this.port}: ${err.message}; pick another beacon port or give the control plane's address`, Code.Unavailable, undefined, undefined, err));
      };
      socket.once("error", onBindError);
      socket.on("message", (message, remote) => this.receive(message, remote));
      socket.bind(this.port, this.bindAddress, () => {
        socket.off("error", onBindError);
        socket.on("error", (err) => this.logger.warn({ err }, `beacon listener on udp/${this.port}: ${err.message}`));
        this.refIfWaited();
        this.sendProbes(socket);
        resolve(this);
      });
      this.socket = socket;
    });
    return this.starting;
  }

  /** Closes the socket. Idempotent. */
  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.starting = undefined;
    if (socket === undefined) return;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Handles one datagram (the socket calls this; tests call it directly).
   * Returns the beacon when it was accepted.
   */
  receive(message: Buffer, remote: { address: string; port: number }, now = Date.now()): HeardBeacon | undefined {
    if (isProbe(message)) return undefined; // another listener's probe (ours too): for control planes
    const decoded = decodeBeacon(message, this.key);
    if (!decoded.ok) return this.drop(decoded.reason, decoded.detail, remote, decoded.expected);
    const { beacon } = decoded;
    const freshness = this.guard.check(beacon.ts, beacon.nonce, now);
    if (freshness === "stale") return this.drop("stale", `its timestamp is ${((now - beacon.ts) / 1000).toFixed(1)}s away from our clock`, remote);
    if (freshness === "replayed") return this.drop("replayed", "its nonce was already seen", remote);
    if (beacon.cluster !== this.cluster) {
      this.counters.otherCluster++;
      if (this.otherClusters.size < 10) this.otherClusters.add(beacon.cluster);
      this.logger.debug({ cluster: beacon.cluster, from: remote.address }, `ignored a beacon of cluster ${beacon.cluster} (we look for ${this.cluster})`);
      return undefined;
    }
    this.counters.accepted++;
    const heard: HeardBeacon = { beacon, from: remote.address, fromPort: remote.port, port: this.port, verified: decoded.verified, receivedAt: now };
    this.latest = heard;
    this.emit("beacon", heard);
    return heard;
  }

  /**
   * Resolves with the next accepted beacon; rejects when `signal` aborts.
   * While someone waits, the socket keeps the process alive (like a pending
   * connection would); otherwise it does not.
   */
  next(signal?: AbortSignal): Promise<HeardBeacon> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = (): void => {
        this.off("beacon", onBeacon);
        signal?.removeEventListener("abort", onAbort);
        this.waiters--;
        this.refIfWaited();
      };
      const onAbort = (): void => {
        done();
        reject(signal!.reason);
      };
      const onBeacon = (heard: HeardBeacon): void => {
        done();
        resolve(heard);
      };
      this.on("beacon", onBeacon);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters++;
      this.refIfWaited();
    });
  }

  /** What was heard besides valid beacons, for progress lines and timeout messages; "" when nothing. */
  summary(): string {
    const parts: string[] = [];
    if (this.counters.otherCluster > 0) {
      parts.push(`ignored ${beacons(this.counters.otherCluster)} of other clusters (${[...this.otherClusters].join(", ")}: is --cluster right?)`);
    }
    const rejected = BEACON_REJECTIONS.filter((r) => this.counters.rejected[r] > 0);
    if (rejected.length > 0) {
      parts.push(`rejected ${rejected.map((r) => `${beacons(this.counters.rejected[r])} ${HINTS[r]}`).join(", ")}`);
    }
    return parts.join("; ");
  }

  /** Asks the control planes of our cluster to announce themselves now (see BeaconListenerOptions.probe). */
  private sendProbes(socket: Socket): void {
    if (this.probeTargets.length === 0) return;
    socket.setBroadcast(true);
    const probe = encodeProbe({ cluster: this.cluster, ts: Date.now(), nonce: newNonce() }, this.key);
    for (const target of this.probeTargets) {
      socket.send(probe, this.port, target, (err) => {
        if (err) this.logger.debug({ err, target }, `could not send a discovery probe to ${target}:${this.port}: ${err.message}`);
      });
    }
  }

  private refIfWaited(): void {
    if (this.waiters > 0) this.socket?.ref();
    else this.socket?.unref();
  }

  private drop(reason: BeaconRejection, detail: string, remote: { address: string; port: number }, expected = false): undefined {
    // Copies signed for another credential of the control plane are counted (they explain a timeout) but not worth a warning.
    this.counters.rejected[reason]++;
    const first = !expected && !this.warned.has(reason);
    if (first) this.warned.add(reason);
    this.logger[first ? "warn" : "debug"](
      { reason, from: `${remote.address}:${remote.port}`, port: this.port },
      `dropped a beacon from ${remote.address}:${remote.port} on udp/${this.port}: ${detail}${first ? ` (${reason}; further ones are counted and logged at debug level)` : ""}`,
    );
    return undefined;
  }
}
