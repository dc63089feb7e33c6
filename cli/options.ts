import { readFileSync } from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_BEACON_PORT } from "../common/discovery/beacon.js";
import type { DiscoveryOptions } from "../common/discovery/discover.js";
import { readTokenFile, validateToken } from "../common/transport/auth.js";
import type { TlsClientOptions } from "../common/transport/grpc-client.js";
import { jsonLimitProblem } from "../common/json-limits.js";

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

/**
 * Parses a flag's JSON (`--args`); throws one line naming the flag. Numbers
 * past a double's range are refused: JSON.parse reads 1e999 as Infinity,
 * which would be sent as null.
 */
export function jsonOption(text: string, flag: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${flag} is not valid JSON: ${(err as Error).message}`);
  }
  // JSON.parse reads 1e999 as Infinity, which would be sent as null: refuse it instead of changing the args.
  const problem = jsonLimitProblem(text);
  if (problem !== undefined) throw new Error(`${flag} has ${problem}`);
  return value;
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// The flags more than one command takes, each defined once: the same name, help text, default
// and FW_ variable in fw-server, fw-worker and fw. Factories, since commander options are mutable.

/** `--token` / `FW_TOKEN`: the secret sent (fw-worker, fw), or the all-powerful one required (fw-server). */
export function tokenOption(help = "the control plane's token to send (--worker-token's for a worker, --client-token's or --read-token's for a client, or --token's)"): Option {
  return new Option("--token <token>", `${help}; at least 16 characters. Prefer --token-file or FW_TOKEN: arguments show in ps`).env("FW_TOKEN");
}

/**
 * `--NAME-file` / `FW_NAME_FILE` for a secret option `--NAME`: read it from
 * a file instead, so it stays out of `ps` and shell history.
 */
export function secretFileOption(name: string): Option {
  const env = `FW_${name.toUpperCase().replace(/-/g, "_")}_FILE`;
  return new Option(`--${name}-file <path>`, `read --${name} from this file (its final line break is dropped)`).env(env);
}

/**
 * The secret given as `--NAME` or `--NAME-file` (undefined: neither),
 * checked: at least 16 characters, never empty. Throws one line.
 */
export function secretFrom(opts: Record<string, unknown>, name: string): string | undefined {
  const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const value = opts[key] as string | undefined;
  const file = opts[`${key}File`] as string | undefined;
  if (value !== undefined && file !== undefined) throw new Error(`--${name} and --${name}-file (or their FW_ variables) are both set; use one`);
  if (file !== undefined) return readTokenFile(file, `--${name}-file`);
  return value === undefined ? undefined : validateToken(value, `--${name}`);
}

/** `--tls-ca` / `FW_TLS_CA` (fw-worker, fw): the CA that signed a grpcs:// control plane's certificate. */
function tlsCaOption(): Option {
  return new Option("--tls-ca <file>", "PEM CA certificate(s) to trust for a grpcs:// control plane, besides the public roots").env("FW_TLS_CA");
}

/** `--tls-cert` / `FW_TLS_CERT` (fw-worker, fw): a client certificate, for a control plane with --tls-client-ca. */
function tlsCertOption(): Option {
  return new Option("--tls-cert <file>", "PEM client certificate, for a control plane started with --tls-client-ca").env("FW_TLS_CERT");
}

/** `--tls-key` / `FW_TLS_KEY` (fw-worker, fw): the key of --tls-cert. */
function tlsKeyOption(): Option {
  return new Option("--tls-key <file>", "PEM private key of --tls-cert").env("FW_TLS_KEY");
}

/** Reads the files of --tls-ca, --tls-cert and --tls-key (undefined: none given). Throws one line naming the flag. */
function clientTlsFrom(opts: Record<string, unknown>): TlsClientOptions | undefined {
  const read = (key: string, flag: string): Buffer | undefined => {
    const path = opts[key] as string | undefined;
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${flag}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const tls = { ca: read("tlsCa", "--tls-ca"), cert: read("tlsCert", "--tls-cert"), key: read("tlsKey", "--tls-key") };
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error("--tls-cert and --tls-key go together");
  return tls.ca === undefined && tls.cert === undefined ? undefined : tls;
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
  return new Option("--server <address>", "the control plane's gRPC address: host:port, or grpcs://host:port for TLS (default: found by UDP beacon)").env("FW_SERVER");
}

/** `--discovery-timeout` / `FW_DISCOVERY_TIMEOUT` (fw-worker, fw); each command keeps its own default. */
export function discoveryTimeoutOption(defaultMs: number): Option {
  return new Option("--discovery-timeout <seconds>", "without --server, fail if no control plane's beacon arrives within this long (0 = keep waiting)")
    .env("FW_DISCOVERY_TIMEOUT")
    .argParser(secondsArg)
    .default(defaultMs, String(defaultMs / 1000));
}

/**
 * The flags of a process that calls a control plane (fw-worker, fw), after
 * `--server`: the token to send, the TLS files, and how to find the control
 * plane by beacon without `--server`. Each command keeps its own default
 * discovery timeout. Read them back with {@link connectionFrom}.
 */
export function addConnectionOptions(command: Command, discoveryTimeoutMs: number): Command {
  return command
    .addOption(tokenOption())
    .addOption(secretFileOption("token"))
    .addOption(tlsCaOption())
    .addOption(tlsCertOption())
    .addOption(tlsKeyOption())
    .addOption(clusterOption())
    .addOption(beaconPortOption())
    .addOption(discoveryTimeoutOption(discoveryTimeoutMs));
}

/** How to reach a control plane, as {@link addConnectionOptions}' flags say: a Worker's options of those names; Client.discover takes `discovery` spread. */
export interface Connection {
  token: string | undefined;
  tls: TlsClientOptions | undefined;
  discovery: DiscoveryOptions;
}

/** What {@link addConnectionOptions}' flags say; throws one line naming the flag for a bad token or an unreadable TLS file. */
export function connectionFrom(opts: Record<string, unknown>): Connection {
  return {
    token: secretFrom(opts, "token"),
    tls: clientTlsFrom(opts),
    discovery: { cluster: opts.cluster as string, port: opts.beaconPort as number, timeoutMs: opts.discoveryTimeout as number },
  };
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
