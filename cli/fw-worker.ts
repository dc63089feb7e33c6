#!/usr/bin/env node
import { Command, Option } from "commander";
import { createLogger, type LogFormat } from "../common/logger.js";
import { routeGrpcLogs } from "./grpc-logs.js";
import { errorMessage } from "../common/errors.js";
import { VERSION } from "../common/version.js";
import { useBufferUtf8Encoding } from "../common/transport/utf8-encoding.js";
import { loadTaskModules } from "../worker/loader.js";
import { Worker } from "../worker/worker.js";
import {
  addConnectionOptions,
  concurrencyOption,
  connectionFrom,
  drainTimeoutOption,
  logFormatOption,
  logLevelOption,
  secondsArg,
  serverOption,
  tasksOption,
} from "./options.js";
import { exitOnSignals, fail } from "./process.js";

const program = addConnectionOptions(
  new Command("fw-worker")
    .description("A fastworker worker: runs the tasks its modules export. Every flag can also be set as FW_<NAME>.")
    .version(VERSION)
    .addOption(tasksOption().makeOptionMandatory())
    .addOption(serverOption())
    .addOption(concurrencyOption())
    .addOption(new Option("--name <name>", "name shown in listings (default host-pid)").env("FW_NAME")),
  0,
)
  .addOption(drainTimeoutOption())
  .addOption(new Option("--abort-grace <seconds>", "how long a handler may ignore its abort signal before its slot is written off").env("FW_ABORT_GRACE").argParser(secondsArg).default(5000, "5"))
  .addOption(logLevelOption())
  .addOption(logFormatOption())
  .showHelpAfterError();

program.action(async (opts: Record<string, unknown>) => {
  useBufferUtf8Encoding();
  const logger = createLogger({ level: opts.logLevel as string, format: opts.logFormat as LogFormat | undefined, name: "fw-worker" });
  routeGrpcLogs(logger);
  let tasks;
  try {
    tasks = await loadTaskModules(opts.tasks as string[]);
  } catch (err) {
    fail("fw-worker", errorMessage(err));
  }
  let worker: Worker;
  try {
    worker = new Worker({
      server: opts.server as string | undefined,
      ...connectionFrom(opts),
      tasks,
      concurrency: opts.concurrency as number,
      name: opts.name as string | undefined,
      drainTimeoutMs: opts.drainTimeout as number,
      abortGraceMs: opts.abortGrace as number,
      logger,
    });
  } catch (err) {
    fail("fw-worker", errorMessage(err));
  }
  let announced = false;
  worker.on("attached", (session) => {
    if (announced) return;
    announced = true;
    process.stdout.write(`fw-worker ready server=${worker.server} name=${worker.name} session=${session} tasks=${worker.taskNames.join(",")}\n`);
  });
  worker.on("error", (err) => fail("fw-worker", errorMessage(err)));
  worker.start();
  exitOnSignals(logger, () => worker.stop());
});

await program.parseAsync();
