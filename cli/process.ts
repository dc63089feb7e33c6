import type { Logger } from "../common/logger.js";

/** Prints one line to stderr and exits non-zero. */
export function fail(command: string, message: string, code = 1): never {
  process.stderr.write(`${command}: ${message}\n`);
  process.exit(code);
}

const beforeExitHooks: (() => Promise<void>)[] = [];

/**
 * Registers work to finish after a signal's shutdown and before the process
 * exits, e.g. flushing telemetry so the last spans are not lost.
 */
export function beforeExit(hook: () => Promise<void>): void {
  beforeExitHooks.push(hook);
}

async function runBeforeExit(logger: Logger): Promise<void> {
  for (const hook of beforeExitHooks) {
    try {
      await hook();
    } catch (err) {
      logger.warn({ err }, "a step before exit failed; exiting anyway");
    }
  }
}

/**
 * On SIGTERM or SIGINT runs `shutdown` once, then the beforeExit hooks, and
 * exits 0; a second signal exits at once with 130.
 */
export function exitOnSignals(logger: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    logger.info(`${signal}: shutting down`);
    shutdown().then(() => runBeforeExit(logger)).then(
      () => {
        logger.info("stopped");
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
