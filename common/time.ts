import { create } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Converts milliseconds to a protobuf Duration. */
export function durationFromMs(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) });
}

/** Converts a protobuf Duration to milliseconds; undefined stays undefined. */
export function durationToMs(duration: Duration | undefined): number | undefined {
  if (duration === undefined) return undefined;
  return Number(duration.seconds) * 1000 + duration.nanos / 1e6;
}

/** Converts Unix milliseconds to a protobuf Timestamp; 0 means "never" and gives undefined. */
export function timestampFromMs(ms: number): Timestamp | undefined {
  if (!ms) return undefined;
  const seconds = Math.floor(ms / 1000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) });
}

/** Converts a protobuf Timestamp to Unix milliseconds (0 when unset). */
export function timestampToMs(timestamp: Timestamp | undefined): number {
  if (timestamp === undefined) return 0;
  return Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6);
}
