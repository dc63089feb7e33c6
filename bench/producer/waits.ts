/** Bounded waits for the producer's workloads. */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection saying `what()` after `timeoutMs`. */
export async function bounded<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what()} after ${timeoutMs / 1000}s`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}
