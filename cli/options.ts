import { InvalidArgumentError } from "commander";

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
