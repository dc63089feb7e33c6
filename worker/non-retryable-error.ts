/**
 * Throw from a handler to fail the task at once, without the retries its
 * policy would otherwise allow (bad input, a missing record: trying again
 * cannot help).
 */
export class NonRetryableError extends Error {
  override readonly name = "NonRetryableError";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
