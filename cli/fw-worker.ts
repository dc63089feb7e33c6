#!/usr/bin/env node
import { Command, Option } from "commander";
import { createLogger, type LogFormat } from "../common/logger.js";
import { errorMessage } from "../common/errors.js";
import { VERSION } from "../common/version.js";
import { DEFAULT_BEACON_PORT } from "../common/discovery/beacon.js";
import { useBufferUtf8Encoding } from "../common/transport/utf8-encoding.js";
import { loadTaskModules } from "../worker/loader.js";
import { Worker } from "../worker/worker.js";
import { collect, intArg, secondsArg } from "./options.js";
import { exitOnSignals, fail } from "./process.js";

const program = new Command("fw-worker")
  .description("A fastworker worker: runs the tasks its modules export. Every flag can also be set as FW_<NAME>.")
  .version(VERSION)
  .addOption(new Option("--tasks <module>", "task module to serve (repeatable)").env("FW_TASKS").argParser(collect).makeOptionMandatory())
  .addOption(new Option("--server <host:port>", "the control plane's gRPC address (default: found by UDP beacon)").env("FW_SERVER"))
  .addOption(new Option("--concurrency <n>", "tasks run at once").env("FW_CONCURRENCY").argParser(intArg(1, 100_000)).default(16))
  .addOption(new Option("--name <name>", "name shown in listings (default host-pid)").env("FW_NAME"))
  .addOption(new Option("--token <token>", "the control plane's token").env("FW_TOKEN"))
  .addOption(new Option("--cluster <name>", "cluster to join (without --server: the beacons to follow)").env("FW_CLUSTER").default("default"))
  .addOption(new Option("--beacon-port <port>", "UDP port to listen for beacons on").env("FW_BEACON_PORT").argParser(intArg(1, 65535)).default(DEFAULT_BEACON_PORT))
  .addOption(new Option("--discovery-timeout <seconds>", "without --server, exit 1 if no control plane is found within this long (0 = keep waiting)").env("FW_DISCOVERY_TIMEOUT").argParser(secondsArg).default(0, "0"))
  .addOption(new Option("--drain-timeout <seconds>", "on SIGTERM, how long running tasks may finish before being handed back").env("FW_DRAIN_TIMEOUT").argParser(secondsArg).default(30_000, "30"))
  .addOption(new Option("--abort-grace <seconds>", "how long a handler may ignore its abort signal before its slot is written off").env("FW_ABORT_GRACE").argParser(secondsArg).default(5000, "5"))
  .addOption(new Option("--log-level <level>", "trace, debug, info, warn, error or silent").env("FW_LOG_LEVEL").default("info"))
  .addOption(new Option("--log-format <format>", "pretty or json (default: pretty on a terminal)").env("FW_LOG_FORMAT").choices(["pretty", "json"]))
  .showHelpAfterError();

program.action(async (opts: Record<string, unknown>) => {
  useBufferUtf8Encoding();
  const logger = createLogger({ level: opts.logLevel as string, format: opts.logFormat as LogFormat | undefined, name: "fw-worker" });
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
      discovery: { cluster: opts.cluster as string, port: opts.beaconPort as number, timeoutMs: opts.discoveryTimeout as number },
      token: opts.token as string | undefined,
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
