/** What a producer saw before a crash: ids acknowledged to it, and results pushed to it. */
export interface ProducerLog {
  /** Acknowledged task id → the n it was submitted with. */
  acked: Map<string, number>;
  /** Acknowledged task id → when the producer heard (Unix ms). */
  ackedAt: Map<string, number>;
  /** Task id → the result the producer received. */
  results: Map<string, string>;
  /** Submissions the control plane refused (code and message). */
  refused: string[];
}

/** Parses the lines of test/fixtures/durable-producer.mjs. */
export function parseProducer(lines: readonly string[]): ProducerLog {
  const log: ProducerLog = { acked: new Map(), ackedAt: new Map(), results: new Map(), refused: [] };
  for (const line of lines) {
    const [kind, a, ...rest] = line.split(" ");
    const at = rest.pop(); // every line ends with its time
    if (kind === "acked") {
      log.acked.set(a!, Number(rest[0]));
      log.ackedAt.set(a!, Number(at));
    } else if (kind === "result") log.results.set(a!, rest[0]!);
    else if (kind === "refused") log.refused.push(`${a} ${rest.join(" ")}`);
  }
  return log;
}

/**
 * The acknowledged ids a recovered control plane does not know: the check
 * behind "acknowledged means durable". Empty when nothing acknowledged was
 * lost. (A unit test feeds it a store that acknowledged before committing, to
 * show it does catch a loss.)
 */
export function lostAcknowledgements(acked: Iterable<string>, known: (id: string) => boolean): string[] {
  const lost: string[] = [];
  for (const id of acked) if (!known(id)) lost.push(id);
  return lost;
}

/** How many acknowledgements the producer has printed so far (what a test waits on before it kills). */
export function ackedCount(lines: readonly string[]): number {
  return lines.reduce((n, l) => (l.startsWith("acked ") ? n + 1 : n), 0);
}
