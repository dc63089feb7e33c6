#!/usr/bin/env node
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { createLogger, type LogFormat } from "../common/logger.js";
import { routeGrpcLogs } from "./grpc-logs.js";
import { errorMessage } from "../common/errors.js";
import { VERSION } from "../common/version.js";
import { useBufferUtf8Encoding } from "../common/transport/utf8-encoding.js";
import { DEFAULT_BEACON_INTERVAL_MS, HOT_QUEUED_DEFAULT, startServer } from "../server/server.js";
import type { RestoreSummary } from "../server/engine/recovery.js";
import { redacted } from "../server/ha/store-url.js";
import { collectGarbage } from "./collect-garbage.js";
import { IdleCollector } from "./idle-collector.js";
import { hostPort } from "../server/transport/grpc-server.js";
import type { TaskDefinition } from "../worker/task.js";
import type { Worker } from "../worker/worker.js";
import { ENGINE_DEFAULTS } from "../server/engine/config.js";
import {
  beaconPortOption,
  clusterOption,
  collect,
  concurrencyOption,
  drainTimeoutOption,
  intArg,
  logFormatOption,
  logLevelOption,
  positiveSecondsArg,
  secondsArg,
  secretFileOption,
  secretFrom,
  sizeArg,
  tasksOption,
  tokenOption,
} from "./options.js";
import { exitOnSignals, fail } from "./process.js";
import { X509Certificate } from "node:crypto";
import type { TlsClientOptions } from "../common/transport/grpc-client.js";
import { certificateName, readTlsFiles, type ServerTls } from "../server/transport/tls.js";

const program = new Command("fw-server")
  .description("The fastworker control plane: queues, dispatch, results, dashboard. Every flag can also be set as FW_<NAME>.")
  .version(VERSION)
  .addOption(new Option("--host <host>", "interface to bind; loopback unless you mean otherwise").env("FW_HOST").default("127.0.0.1"))
  .addOption(new Option("--port <port>", "gRPC port (0 = any free port)").env("FW_PORT").argParser(intArg(0, 65535)).default(50051))
  .addOption(new Option("--http-port <port>", "dashboard + Connect port (0 = any free port)").env("FW_HTTP_PORT").argParser(intArg(0, 65535)).default(8000))
  .addOption(tasksOption())
  .addOption(concurrencyOption())
  .addOption(drainTimeoutOption())
  .addOption(new Option("--data-dir <dir>", "keep the state (tasks, results, keys, worker sessions) here; default .fastworker/<cluster>").env("FW_DATA_DIR"))
  .addOption(new Option("--in-memory", "keep the state in memory only: a restart forgets every task").env("FW_IN_MEMORY"))
  .addOption(new Option("--store <url>", "keep the state in PostgreSQL (postgres://user@host/db) instead; control planes on one database form a group with one leader").env("FW_STORE"))
  .addOption(new Option("--check", "check the data directory and print what it holds, then exit (works while fw-server runs)"))
  .addOption(new Option("--backup <dir>", "copy a consistent snapshot of the data directory into <dir> (new or empty), then exit (works while fw-server runs)"))
  .addOption(new Option("--result-ttl <seconds>", "how long results are kept").env("FW_RESULT_TTL").argParser(secondsArg).default(ENGINE_DEFAULTS.resultTtlMs, "3600"))
  .addOption(new Option("--key-ttl <seconds>", "how long an idempotency key is remembered after its task finished (at least --result-ttl; default: --result-ttl)").env("FW_KEY_TTL").argParser(secondsArg))
  .addOption(new Option("--max-results <n>", "the most results kept (oldest dropped first)").env("FW_MAX_RESULTS").argParser(intArg(1)).default(ENGINE_DEFAULTS.maxResults))
  .addOption(new Option("--max-payload <size>", "largest args or result, e.g. 1MiB").env("FW_MAX_PAYLOAD").argParser(sizeArg).default(ENGINE_DEFAULTS.maxPayloadBytes, "1MiB"))
  .addOption(new Option("--max-queued <n>", "the most tasks waiting to run (queued and scheduled); more submissions get RESOURCE_EXHAUSTED").env("FW_MAX_QUEUED").argParser(intArg(1)).default(ENGINE_DEFAULTS.maxQueued))
  .addOption(new Option("--max-queued-bytes <size>", "the most bytes of args of tasks waiting to run, e.g. 512MiB; more submissions get RESOURCE_EXHAUSTED").env("FW_MAX_QUEUED_BYTES").argParser(sizeArg).default(ENGINE_DEFAULTS.maxQueuedBytes, "512MiB"))
  .addOption(new Option("--hot-queued <n>", "with a data directory: past this many queued tasks in memory, new ones wait on disk only (raise --max-queued for a larger backlog)").env("FW_HOT_QUEUED").argParser(intArg(1)).default(HOT_QUEUED_DEFAULT))
  .addOption(new Option("--timeout-grace <seconds>", "a running attempt not reported this long after its timeout is failed (TIMED_OUT) by the control plane").env("FW_TIMEOUT_GRACE").argParser(positiveSecondsArg).default(ENGINE_DEFAULTS.timeoutGraceMs, "30"))
  .addOption(tokenOption("the all-powerful token: any RPC, a worker's or a client's, and reads (with any token set, every call needs one)"))
  .addOption(secretFileOption("token"))
  .addOption(new Option("--worker-token <token>", "a token for workers only: register, receive tasks, report results").env("FW_WORKER_TOKEN"))
  .addOption(secretFileOption("worker-token"))
  .addOption(new Option("--client-token <token>", "a token for applications and admins: submit, cancel, retry and read; not a worker").env("FW_CLIENT_TOKEN"))
  .addOption(secretFileOption("client-token"))
  .addOption(new Option("--read-token <token>", "a token that only reads: tasks, stats, workers, the dashboard, /metrics").env("FW_READ_TOKEN"))
  .addOption(secretFileOption("read-token"))
  .addOption(new Option("--insecure", "start bound off loopback without any token (otherwise refused): only on a trusted network").env("FW_INSECURE"))
  .addOption(new Option("--tls-cert <file>", "serve TLS on both ports with this PEM certificate (chain)").env("FW_TLS_CERT"))
  .addOption(new Option("--tls-key <file>", "the PEM private key of --tls-cert").env("FW_TLS_KEY"))
  .addOption(new Option("--tls-client-ca <file>", "require client certificates signed by this PEM CA on both ports").env("FW_TLS_CLIENT_CA"))
  .addOption(new Option("--allowed-host <name>", "a Host name the HTTP port answers to besides localhost and its address (repeatable; e.g. a proxy's name)").env("FW_ALLOWED_HOST").argParser(collect))
  .addOption(new Option("--cors-origin <origin>", "let pages of this origin call the HTTP port (repeatable; default: no CORS)").env("FW_CORS_ORIGIN").argParser(collect))
  .addOption(clusterOption())
  .addOption(beaconPortOption())
  .addOption(new Option("--beacon-addr <ip>", "send beacons here instead (repeatable; default 127.255.255.255 on loopback, else the subnet broadcast)").env("FW_BEACON_ADDR").argParser(collect))
  .addOption(new Option("--beacon-interval <seconds>", "seconds between beacons").env("FW_BEACON_INTERVAL").argParser(positiveSecondsArg).default(DEFAULT_BEACON_INTERVAL_MS, "2"))
  .addOption(new Option("--no-discovery", "send no beacons (workers and clients then need --server)").env("FW_NO_DISCOVERY"))
  .addOption(new Option("--heartbeat-interval <seconds>", "how often workers are pinged").env("FW_HEARTBEAT_INTERVAL").argParser(secondsArg).default(ENGINE_DEFAULTS.heartbeatIntervalMs, "1"))
  .addOption(new Option("--lease-timeout <seconds>", "a worker without proven heartbeats this long is lost; its tasks run elsewhere").env("FW_LEASE_TIMEOUT").argParser(secondsArg).default(ENGINE_DEFAULTS.leaseTimeoutMs, "10"))
  .addOption(new Option("--detach-grace <seconds>", "a worker whose stream closed is lost if it is not back within this").env("FW_DETACH_GRACE").argParser(secondsArg).default(ENGINE_DEFAULTS.detachGraceMs, "5"))
  .addOption(logLevelOption())
  .addOption(logFormatOption())
  .showHelpAfterError();

program.action(async (opts: Record<string, unknown>) => {
  useBufferUtf8Encoding();
  const logger = createLogger({ level: opts.logLevel as string, format: opts.logFormat as LogFormat | undefined, name: "fw-server" });
  routeGrpcLogs(logger);
  if (opts.inMemory && opts.dataDir !== undefined) fail("fw-server", "--in-memory and --data-dir contradict each other; pick one");
  const store = opts.store as string | undefined;
  if (store !== undefined && (opts.inMemory || opts.dataDir !== undefined)) fail("fw-server", "--store keeps the state in PostgreSQL: drop --data-dir and --in-memory");
  if (store !== undefined && !/^postgres(ql)?:\/\//.test(store)) fail("fw-server", `--store takes a postgres://user@host/db URL (got ${JSON.stringify(redacted(store))})`);
  const dataDir = opts.inMemory || store !== undefined ? undefined : ((opts.dataDir as string | undefined) ?? join(".fastworker", opts.cluster as string));
  if (opts.backup !== undefined) {
    if (dataDir === undefined) fail("fw-server", "--backup copies a data directory; drop --in-memory");
    try {
      const { backupState } = await import("../server/store/backup-state.js");
      process.stdout.write(`backed up ${resolve(dataDir)} into ${await backupState(dataDir, opts.backup as string)}\n`);
    } catch (err) {
      fail("fw-server", errorMessage(err));
    }
    process.exit(0);
  }
  if (opts.check) {
    if (dataDir === undefined) fail("fw-server", "--check reads a data directory; drop --in-memory");
    const { checkState, formatCheck } = await import("../server/store/check-state.js");
    let report;
    try {
      report = await checkState(dataDir);
    } catch (err) {
      fail("fw-server", errorMessage(err));
    }
    process.stdout.write(formatCheck(report));
    process.exit(report.problems.length === 0 ? 0 : 1);
  }
  const taskModules = (opts.tasks as string[] | undefined) ?? [];
  let tasks: Map<string, TaskDefinition> | undefined;
  let WorkerClass: typeof Worker | undefined;
  let server;
  let secrets;
  let tls;
  try {
    secrets = {
      token: secretFrom(opts, "token"),
      workerToken: secretFrom(opts, "worker-token"),
      clientToken: secretFrom(opts, "client-token"),
      readToken: secretFrom(opts, "read-token"),
    };
    tls = readTlsFiles({ cert: opts.tlsCert as string | undefined, key: opts.tlsKey as string | undefined, clientCa: opts.tlsClientCa as string | undefined });
  } catch (err) {
    fail("fw-server", errorMessage(err));
  }
  const credentialSet = Object.values(secrets).some((t) => t !== undefined);
  const embeddedToken = secrets.workerToken ?? secrets.token;
  if (taskModules.length > 0 && credentialSet && embeddedToken === undefined) {
    fail("fw-server", "--tasks runs an embedded worker, which needs --worker-token or --token (the other tokens cannot register a worker)");
  }
  // The embedded worker dials this process's gRPC port on loopback.
  const embeddedHost = ["0.0.0.0", "::"].includes(opts.host as string) ? "127.0.0.1" : (opts.host as string);
  const embeddedTls = taskModules.length > 0 && tls !== undefined ? embeddedWorkerTls(tls, embeddedHost) : undefined;
  try {
    // Load task modules first: a broken module should fail before anything listens. The worker runtime (and tsx)
    // is loaded only for --tasks: a control plane without an embedded worker does not carry it.
    if (taskModules.length > 0) {
      const { loadTaskModules } = await import("../worker/loader.js");
      tasks = await loadTaskModules(taskModules);
      WorkerClass = (await import("../worker/worker.js")).Worker;
    }
    server = await startServer({
      host: opts.host as string,
      port: opts.port as number,
      httpPort: opts.httpPort as number,
      resultTtlMs: opts.resultTtl as number,
      maxResults: opts.maxResults as number,
      keyTtlMs: opts.keyTtl as number | undefined,
      maxPayloadBytes: opts.maxPayload as number,
      maxQueued: opts.maxQueued as number,
      maxQueuedBytes: opts.maxQueuedBytes as number,
      hotQueued: opts.hotQueued as number,
      timeoutGraceMs: opts.timeoutGrace as number,
      ...secrets,
      tls,
      insecure: opts.insecure === true,
      allowedHosts: (opts.allowedHost as string[] | undefined) ?? [],
      corsOrigins: (opts.corsOrigin as string[] | undefined) ?? [],
      cluster: opts.cluster as string,
      discovery:
        opts.discovery === false
          ? false
          : { port: opts.beaconPort as number, targets: (opts.beaconAddr as string[] | undefined) ?? [], intervalMs: opts.beaconInterval as number },
      heartbeatIntervalMs: opts.heartbeatInterval as number,
      leaseTimeoutMs: opts.leaseTimeout as number,
      detachGraceMs: opts.detachGrace as number,
      dataDir,
      store,
      onStateFailure: (err) => {
        // Nothing can be acknowledged any more: stop at once, loudly, rather than look healthy.
        logger.fatal({ err }, "the control plane cannot write its state; exiting");
        logger.flush?.();
        process.exit(70);
      },
      logger,
    });
  } catch (err) {
    fail("fw-server", startupMessage(err, opts));
  }
  // The embedded worker: the same Worker as fw-worker, dialling this process's gRPC port; in a group,
  // started once this control plane leads (a standby's would only be refused).
  let worker: Worker | undefined;
  const startWorker = (): void => {
    if (tasks === undefined || WorkerClass === undefined || worker !== undefined) return;
    worker = new WorkerClass({
      server: `${tls ? "grpcs://" : ""}${hostPort(embeddedHost, server.grpcPort)}`,
      token: embeddedToken,
      tls: embeddedTls,
      tasks,
      concurrency: opts.concurrency as number,
      drainTimeoutMs: opts.drainTimeout as number,
      name: `embedded-${process.pid}`,
      logger: logger.child({ component: "worker" }),
    });
    worker.on("error", (err) => logger.error({ err }, "the embedded worker stopped"));
    worker.start();
  };
  const where = store !== undefined ? redacted(store) : dataDir === undefined ? "memory" : resolve(dataDir);
  const recovered = (r: RestoreSummary | undefined): void => {
    if (r === undefined) return;
    logger.info(r, `recovered ${r.tasks} tasks from ${server.state}: ${r.queued} queued, ${r.scheduled} scheduled, ${r.running} running on ${r.workers} workers that may report back, ${r.requeued} re-queued`);
  };
  if (server.role !== "standby") {
    recovered(server.restored);
    startWorker();
  }
  server.on("leading", (_state, restored) => {
    // A standby took over: the line scripts wait for.
    // The same key=value form as the ready line: `state=` names the database (no spaces).
    process.stdout.write(`fw-server leading grpc=${server.grpcAddress} http=${server.httpUrl} state=${where}\n`);
    recovered(restored);
    startWorker();
  });
  server.on("deposed", (reason) => {
    // Fenced: it must not acknowledge again. A supervisor restarts it, as a standby.
    logger.fatal(`lost the lead of the group (${reason}); exiting so that only the new leader acknowledges`);
    logger.flush?.();
    process.exit(75);
  });
  const names = tasks === undefined ? [] : [...tasks.keys()];
  await collectGarbage();
  // The one line scripts wait for: real bound ports, and where the state is.
  process.stdout.write(
    `fw-server ready grpc=${server.grpcAddress} http=${server.httpUrl} cluster=${server.cluster} version=${VERSION}` +
      ` state=${where}` + (server.role !== undefined ? ` role=${server.role}` : "") +
      (names.length ? ` tasks=${names.join(",")}` : "") + "\n",
  );
  const credentials = Object.entries(secrets).filter(([, v]) => v !== undefined).map(([k]) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  logger.info({ grpc: server.grpcAddress, http: server.httpUrl, credentials, tls: server.tls, state: server.state, role: server.role, tasks: names }, "control plane ready");
  const idleCollector = new IdleCollector({ collect: collectGarbage, logger });
  idleCollector.start();
  exitOnSignals(logger, async () => {
    idleCollector.stop();
    // New submissions get UNAVAILABLE at once; running attempts may finish; queued tasks stay queued.
    server.quiesce();
    const drainMs = opts.drainTimeout as number;
    const [, stillRunning] = await Promise.all([worker?.stop(), server.drain(drainMs)]);
    if (server.role === "standby") {
      await server.stop();
      logger.info("stopped (a standby: nothing to keep)");
      return;
    }
    const counts = server.plane.store.counts();
    const queued = counts.queued.reduce((a, b) => a + b, 0);
    const state = server.state; // read before stop(): a stopped server no longer says where its state is
    await server.stop();
    const kept = `${queued} queued, ${counts.scheduled} scheduled, ${stillRunning} still running`;
    if (dataDir === undefined && store === undefined) logger.warn(`stopped in memory: ${kept} tasks are forgotten`);
    else logger.info({ queued, scheduled: counts.scheduled, running: stillRunning }, `stopped: ${kept} tasks kept in ${state}; a restart resumes them`);
  });
});

/**
 * How the embedded worker checks its own control plane's TLS: it trusts
 * exactly the certificate the control plane serves (whatever CA signed it)
 * under a name that certificate carries, since it dials loopback; with
 * --tls-client-ca it presents that same certificate as its client
 * certificate, so the client CA must have signed it.
 */
function embeddedWorkerTls(tls: ServerTls, host: string): TlsClientOptions {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(Buffer.from(tls.cert));
  } catch {
    return {}; // not a certificate: startServer says so, naming the flag
  }
  const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  if (tls.clientCa !== undefined && leaf.keyUsage !== undefined && !leaf.keyUsage.includes(CLIENT_AUTH)) {
    fail(
      "fw-server",
      "--tasks with --tls-client-ca: the embedded worker presents the control plane's certificate as its client certificate, " +
        "but --tls-cert's is for servers only (no clientAuth in its extended key usage); issue it with extendedKeyUsage=serverAuth,clientAuth, or run workers with fw-worker",
    );
  }
  return {
    ca: leaf.toString(),
    serverName: certificateName(leaf, host),
    ...(tls.clientCa !== undefined ? { cert: tls.cert, key: tls.key } : {}),
  };
}

function startupMessage(err: unknown, opts: Record<string, unknown>): string {
  const message = errorMessage(err);
  if (/EADDRINUSE|No address added/.test(message)) {
    return `cannot listen on ${opts.host}:${opts.port} (gRPC) or ${opts.host}:${opts.httpPort} (HTTP): the port is in use or the address is not local; pick others with --port/--http-port (0 = any free port). (${message})`;
  }
  return message;
}

await program.parseAsync();
