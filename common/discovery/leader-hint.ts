/**
 * How a standby control plane points at its group's leader: the message of
 * the UNAVAILABLE it answers says "the leader is at HOST:PORT", and clients
 * and workers that follow a group read the address back from it. One place
 * for the format, on both sides.
 */

/** The sentence a standby refuses calls with. */
export function standbyMessage(leader: { grpc: string; http: string; term: number } | undefined): string {
  return leader === undefined
    ? "this control plane is a standby: another one of its group leads (not yet known where); try another address"
    : `this control plane is a standby; the leader is at ${leader.grpc} (dashboard ${leader.http}), term ${leader.term}`;
}

/** The leader's gRPC address in a standby's refusal, if the message has one. */
export function leaderFromMessage(message: string): string | undefined {
  return /the leader is at (\S+) \(dashboard /.exec(message)?.[1];
}
