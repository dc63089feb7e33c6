/**
 * How a standby control plane points at its group's leader: the message of
 * the UNAVAILABLE it answers says "the leader is at HOST:PORT", and clients
 * and workers that follow a group read the address back from it. One place
 * for the format, on both sides.
 */

/** The sentence a standby refuses calls with. */
export function standbyMessage(leader: { grpc: string; http: string; term: number } | undefined): string {
  return leader === undefined
    ? notServingMessage("is a standby: another one of its group leads (not yet known where); try another address")
    : notServingMessage(`is a standby; the leader is at ${leader.grpc} (dashboard ${leader.http}), term ${leader.term}`);
}

/**
 * Why a control plane that is not serving refuses every call (starting,
 * standing by, deposed): the refusal happens before the call does anything,
 * so a client may send what it carried again, elsewhere or later.
 */
export function notServingMessage(reason: string): string {
  return `this control plane ${reason}`;
}

/**
 * Whether a call's error says it certainly did nothing: the control plane
 * refused it as not serving, or no connection was ever made.
 */
export function certainlyNotCarriedOut(message: string): boolean {
  return message.startsWith("this control plane ") || /No connection established|ECONNREFUSED/.test(message);
}

/** The leader's gRPC address in a standby's refusal, if the message has one. */
export function leaderFromMessage(message: string): string | undefined {
  return /the leader is at (\S+) \(dashboard /.exec(message)?.[1];
}
