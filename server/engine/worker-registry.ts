import { randomUUID } from "node:crypto";
import { WorkerState } from "../../gen/fastworker/v1/admin_service_pb.js";
import { newSessionSecret } from "./session-secret.js";
import { WorkerSession, type WorkerIdentity } from "./worker-session.js";

const LOST_KEPT = 50;

/**
 * The registered workers, and which of them serve each task name. Lost
 * workers stay listed (the last few) so people can see what happened.
 */
export class WorkerRegistry {
  private readonly sessions = new Map<string, WorkerSession>();
  private readonly lost: WorkerSession[] = [];

  /** A new session, and its secret: the one time the secret is seen (the session keeps its hash). */
  register(identity: WorkerIdentity, now: number): { session: WorkerSession; secret: string } {
    const { secret, hash } = newSessionSecret();
    const session = new WorkerSession(randomUUID(), identity, now, hash);
    this.sessions.set(session.id, session);
    return { session, secret };
  }

  /**
   * A session known from before a control-plane restart: DISCONNECTED, as if
   * its dispatch stream had just closed, so it is lost unless its worker
   * reattaches within the detach grace.
   */
  restore(id: string, identity: WorkerIdentity, connectedAt: number, secretHash: Buffer, now: number): WorkerSession {
    const session = new WorkerSession(id, identity, connectedAt, secretHash);
    session.detachedAt = now;
    session.provenAt = now;
    session.lastHeartbeatAt = now;
    this.sessions.set(id, session);
    return session;
  }

  /** A live (not lost) session by id. */
  get(id: string): WorkerSession | undefined {
    return this.sessions.get(id);
  }

  /** Live sessions. */
  live(): IterableIterator<WorkerSession> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A recently lost session by id (its late reports are still fenced and counted). */
  getLost(id: string): WorkerSession | undefined {
    return this.lost.find((s) => s.id === id);
  }

  /** Live and recently lost sessions, for listings. */
  listed(): WorkerSession[] {
    return [...this.sessions.values(), ...this.lost];
  }

  /** Drops a session: lost ones are kept for listings, drained ones are forgotten. */
  remove(session: WorkerSession): void {
    if (!this.sessions.delete(session.id)) return;
    if (session.state === WorkerState.LOST) {
      this.lost.unshift(session);
      if (this.lost.length > LOST_KEPT) this.lost.pop();
    }
  }

  /** True when some worker with an open dispatch stream serves this name. */
  isServed(name: string): boolean {
    for (const session of this.sessions.values()) {
      if (session.stream !== undefined && session.names.includes(name)) return true;
    }
    return false;
  }
}
