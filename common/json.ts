import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

export type { JsonValue };

/** Converts a google.protobuf.Value to the plain JSON value it stands for. */
export function valueToJson(value: Value): JsonValue {
  return toJson(ValueSchema, value);
}

/** Converts a plain JSON value to a google.protobuf.Value. */
export function jsonToValue(json: JsonValue): Value {
  return fromJson(ValueSchema, json);
}

/**
 * Parses JSON text, throwing INVALID_ARGUMENT with the parser's reason and
 * what the text was for, e.g. `parseJsonText(s, "args")`.
 */
export function parseJsonText(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConnectError(`${what} are not valid JSON: ${reason}`, Code.InvalidArgument);
  }
}

/**
 * Serialises a handler's return value or a submission's args to JSON text.
 * undefined becomes null (JSON has no undefined); values JSON cannot hold
 * (BigInt, cycles) throw INVALID_ARGUMENT naming what they were for.
 */
export function stringifyJson(value: unknown, what: string): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConnectError(`${what} cannot be sent as JSON: ${reason}`, Code.InvalidArgument);
  }
}
