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

/**
 * Where JSON text holds a number no double can hold: JSON.parse reads
 * `1e999` as Infinity, which JSON.stringify then writes as `null` and a
 * google.protobuf.Value cannot carry at all, so such a value would be stored
 * as something else or not read back. Answers the JSON pointer of the first
 * such number ("" for the whole value), or undefined when there is none.
 *
 * Cheap for ordinary text: only a literal with an exponent of three digits
 * or more, or 309 digits, can overflow, so the value is walked only when the
 * text has one (possibly inside a string, which the walk then clears).
 */
export function nonFiniteNumberAt(text: string, parsed: unknown): string | undefined {
  if (!MAY_OVERFLOW.test(text)) return undefined;
  return findNonFinite(parsed, "");
}

const MAY_OVERFLOW = /[eE]\+?0*[1-9]\d{2}|\d{309}/;

function findNonFinite(value: unknown, path: string): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : path;
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonFinite(value[i], `${path}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = findNonFinite(item, `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Parses JSON text that must stay the same value when written back: throws
 * INVALID_ARGUMENT for text that is not JSON, and for numbers too large for
 * a double (see nonFiniteNumberAt), naming what the text was for.
 */
export function parseFiniteJson(text: string, what: string): JsonValue {
  const value = parseJsonText(text, what);
  const at = nonFiniteNumberAt(text, value);
  if (at !== undefined) {
    throw new ConnectError(
      `${what} hold a number too large for JSON to carry${at ? ` at ${at}` : ""} (it reads as Infinity): send it as a string`,
      Code.InvalidArgument,
    );
  }
  return value;
}
