import { createSocket, type Socket } from "node:dgram";
import { beaconKey, decodeProbe, isProbe } from "../../common/discovery/beacon.js";
import { ReplayGuard } from "../../common/discovery/replay-guard.js";
import type { Logger } from "../../common/logger.js";
import type { Loop } from "../loops/interval-loop.js";

/** Options for {@link ProbeResponder}. */
export interface ProbeResponderOptions {
  cluster: string;
  /** With tokens, only probes signed with one of them are answered (a listener signs with its own). */
  tokens?: readonly string[];
  /** The UDP port listeners probe on: the beacon port. */
  port: number;
  /** Announces now (the beacon sender's announceNow: rate-limited there). */
  announce(): void;
  logger: Logger;
}

/**
 * Answers discovery probes: listens on the beacon port (shared with every
 * listener on the host, SO_REUSEADDR) and, for a valid, fresh probe of its
 * cluster, makes the beacon sender announce at once. A new worker or `fw`
 * then finds its control plane in about a millisecond instead of waiting up
 * to a beacon interval. The answer is an ordinary beacon to the usual
 * targets, so every listener hears it, including the one that asked.
 * Invalid probes are dropped silently (counted at debug): a probe can only
 * make a control plane send what it would send anyway, rate-limited.
 */
export class ProbeResponder implements Loop {
  private readonly keys: readonly Buffer[];
  private readonly guard = new ReplayGuard({ maxAgeMs: 30_000 });
  private socket: Socket | undefined;
  /** Probes answered and dropped, for tests and debugging. */
  readonly counters = { answered: 0, dropped: 0 };

  constructor(private readonly options: ProbeResponderOptions) {
    this.keys = (options.tokens ?? []).map(beaconKey);
  }

  start(): void {
    if (this.socket !== undefined) return;
    const socket = createSocket({ type: "udp4", reuseAddr: true });
    this.socket = socket;
    socket.on("error", (err) => this.options.logger.warn({ err }, `discovery probe socket on udp/${this.options.port}: ${err.message}`));
    socket.on("message", (message) => this.runOnce(message, Date.now()));
    socket.bind(this.options.port, "0.0.0.0", () => socket.unref());
  }

  stop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
  }

  /** Handles one datagram; answers whether it made the control plane announce. */
  runOnce(message: Buffer, now: number): boolean {
    if (!isProbe(message)) return false; // beacons (ours and others') arrive on this port too
    const decoded = this.decode(message);
    const fresh = decoded.ok ? this.guard.check(decoded.probe.ts, decoded.probe.nonce, now) : undefined;
    if (!decoded.ok || fresh !== "fresh" || decoded.probe.cluster !== this.options.cluster) {
      this.counters.dropped++;
      this.options.logger.debug({ reason: decoded.ok ? (fresh !== "fresh" ? fresh : "other cluster") : decoded.reason }, "ignored a discovery probe");
      return false;
    }
    this.counters.answered++;
    this.options.announce();
    return true;
  }

  /** Decodes with each key until one verifies (without tokens: unverified). */
  private decode(message: Buffer): ReturnType<typeof decodeProbe> {
    if (this.keys.length === 0) return decodeProbe(message);
    let decoded: ReturnType<typeof decodeProbe> = { ok: false, reason: "unsigned", detail: "no key" };
    for (const key of this.keys) {
      decoded = decodeProbe(message, key);
      if (decoded.ok || decoded.reason !== "bad-signature") return decoded;
    }
    return decoded;
  }
}
