import { InvalidArgumentError, Option } from "commander";
import { DEFAULT_BEACON_PORT } from "../common/discovery/beacon.js";

/** Parses a whole number option, within bounds. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** Parses seconds (fractions allowed) into milliseconds. */
export function secondsArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of seconds, e.g. 30 or 0.5");
  return Math.round(n * 1000);
}

/** Parses seconds (fractions allowed, more than 0) into milliseconds. */
export function positiveSecondsArg(value: string): number {
  const ms = secondsArg(value);
  if (ms <= 0) throw new InvalidArgumentError("expected a number of seconds above 0, e.g. 2 or 0.5");
  return ms;
}

/** Parses an ISO 8601 time (with a zone, e.g. 2026-12-01T03:00:00Z or +01:00) into a Date. */
export function timeArg(value: string): Date {
  const ms = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError("expected an ISO 8601 time with a zone, e.g. 2026-12-01T03:00:00Z");
  return new Date(ms);
}

/** Parses a size like 1048576, 512KiB, 1MiB or 2MB into bytes. */
export function sizeArg(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError("expected a size such as 1048576, 512KiB or 1MiB");
  const unit = (match[2] ?? "b").toLowerCase();
  const scale = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 ** 2 : unit.startsWith("g") ? 1024 ** 3 : 1;
  return Math.round(Number(match[1]) * scale);
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// The flags more than one command takes, each defined once: the same name, help text, default
// and FW_ variable in fw-server, fw-worker and fw. Factories, since commander options are mutable.

/** `--token` / `FW_TOKEN`: the shared secret (fw-server, fw-worker, fw). */
export function tokenOption(): Option {
  return new Option("--token <token>", "token the control plane requires on every RPC (workers and clients send it)").env("FW_TOKEN");
}

/** `--cluster` / `FW_CLUSTER` (fw-server, fw-worker, fw). */
export function clusterOption(): Option {
  return new Option("--cluster <name>", "cluster name beacons carry; without --server, only its beacons are followed")
    .env("FW_CLUSTER")
    .default("default");
}

/** `--beacon-port` / `FW_BEACON_PORT` (fw-server, fw-worker, fw). */
export function beaconPortOption(): Option {
  return new Option("--beacon-port <port>", "UDP port of the discovery beacons")
    .env("FW_BEACON_PORT")
    .argParser(intArg(1, 65535))
    .default(DEFAULT_BEACON_PORT);
}

/** `--server` / `FW_SERVER` (fw-worker, fw). */
export function serverOption(): Option {
  return new Option("--server <host:port>", "the control plane's gRPC address (default: found by UDP beacon)").env("FW_SERVER");
}

/** `--discovery-timeout` / `FW_DISCOVERY_TIMEOUT` (fw-worker, fw); each command keeps its own default. */
export function discoveryTimeoutOption(defaultMs: number): Option {
  return new Option("--discovery-timeout <seconds>", "without --server, fail if no control plane's beacon arrives within this long (0 = keep waiting)")
    .env("FW_DISCOVERY_TIMEOUT")
    .argParser(secondsArg)
    .default(defaultMs, String(defaultMs / 1000));
}

/** `--tasks` / `FW_TASKS`, repeatable (fw-server; fw-worker, where it is mandatory). */
export function tasksOption(): Option {
  return new Option("--tasks <module>", "task module whose tasks this process runs (repeatable)").env("FW_TASKS").argParser(collect);
}

/** `--concurrency` / `FW_CONCURRENCY` (fw-server, fw-worker). */
export function concurrencyOption(): Option {
  return new Option("--concurrency <n>", "tasks this process runs at once")
    .env("FW_CONCURRENCY")
    .argParser(intArg(1, 100_000))
    .default(16);
}

/** `--drain-timeout` / `FW_DRAIN_TIMEOUT` (fw-server, fw-worker). */
export function drainTimeoutOption(): Option {
  return new Option("--drain-timeout <seconds>", "on SIGTERM, how long running tasks may finish before being handed back")
    .env("FW_DRAIN_TIMEOUT")
    .argParser(secondsArg)
    .default(30_000, "30");
}

/** `--log-level` / `FW_LOG_LEVEL` (fw-server, fw-worker). */
export function logLevelOption(): Option {
  return new Option("--log-level <level>", "trace, debug, info, warn, error or silent").env("FW_LOG_LEVEL").default("info");
}

/** `--log-format` / `FW_LOG_FORMAT` (fw-server, fw-worker). */
export function logFormatOption(): Option {
  return new Option("--log-format <format>", "pretty or json (default: pretty on a terminal)").env("FW_LOG_FORMAT").choices(["pretty", "json"]);
}
