import { create, fromJson, ScalarType, toBinary, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { Random } from "../helpers/random.js";

/** Task names a fuzzed message uses now and then, so it reaches past name validation (none that sleeps or allocates on request). */
const NAMES = ["add", "echo", "boom", "fatal", "order", "nobody-serves-this"];

/** A random JSON value, shallow or (sometimes) deep, with awkward numbers and strings. */
export function randomJsonValue(rand: Random, depth = 0): unknown {
  const r = rand.next();
  if (depth > 3 || r < 0.5) {
    return rand.pick<unknown>([null, true, false, 0, -1, 1.5, 2 ** 53, rand.int(-1e6, 1e6), "", "x".repeat(rand.length(300)), "é€😀", "\u0000"]);
  }
  if (r < 0.75) return Array.from({ length: rand.int(0, 4) }, () => randomJsonValue(rand, depth + 1));
  return Object.fromEntries(Array.from({ length: rand.int(0, 4) }, (_, i) => [rand.pick(["a", "b", "ms", "bytes", `k${i}`]), randomJsonValue(rand, depth + 1)]));
}

function randomString(rand: Random): string {
  switch (rand.int(0, 7)) {
    case 0: return "";
    case 1: return rand.pick(NAMES);
    case 2: return "x".repeat(rand.length(3000));
    case 3: return JSON.stringify(randomJsonValue(rand));
    case 4: return rand.pick(["{bad", "1e999", "[".repeat(50) + "]".repeat(50), " add ", "a\u0000b", "é€😀", "\ud800"]);
    case 5: return `T${rand.int(0, 1e9).toString(36)}`;
    default: return rand.pick(NAMES);
  }
}

function randomScalar(rand: Random, type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return randomString(rand);
    case ScalarType.BOOL:
      return rand.chance(0.5);
    case ScalarType.BYTES:
      return rand.bytes(rand.length(64));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return rand.pick([0, -0, 0.5, 1, -1, 1e308, -1e308, NaN, Infinity, -Infinity, 5e-324, rand.next() * 1e6]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return rand.pick([0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(rand.int(-1e9, 1e9))]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return rand.pick([0n, 1n, 2n ** 64n - 1n, BigInt(rand.int(0, 1e9))]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rand.pick([0, 1, 2 ** 32 - 1, rand.int(0, 1e6)]);
    default:
      return rand.pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), rand.int(-1000, 100000)]);
  }
}

function randomEnum(rand: Random, field: { enum: { values: readonly { number: number }[] } }): number {
  return rand.chance(0.85) ? rand.pick(field.enum.values).number : rand.pick([-1, 99, 2 ** 31 - 1]);
}

/** A random message of a type: any subset of its fields, values across their ranges. */
export function randomMessage(rand: Random, schema: DescMessage, depth = 0): Message {
  switch (schema.typeName) {
    case "google.protobuf.Value":
      return fromJson(schema, randomJsonValue(rand) as never);
    case "google.protobuf.Struct":
      return fromJson(schema, { a: randomJsonValue(rand) } as never);
    case "google.protobuf.ListValue":
      return fromJson(schema, [randomJsonValue(rand)] as never);
    case "google.protobuf.Duration":
    case "google.protobuf.Timestamp":
      return create(schema, { seconds: rand.pick([0n, 1n, -1n, 30n, 86_400n * 400n, 2n ** 62n]), nanos: rand.pick([0, 500_000_000, -1, 999_999_999]) } as never);
  }
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (!rand.chance(depth === 0 ? 0.7 : 0.4)) continue;
    const value = randomFieldValue(rand, field, depth);
    if (value === undefined) continue;
    if (field.oneof !== undefined) init[field.oneof.localName] = { case: field.localName, value };
    else init[field.localName] = value;
  }
  return create(schema, init as never);
}

function randomFieldValue(rand: Random, field: DescField, depth: number): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return randomScalar(rand, field.scalar);
    case "enum":
      return randomEnum(rand, field);
    case "message":
      return depth > 4 ? undefined : randomMessage(rand, field.message, depth + 1);
    case "list": {
      // Now and then a long list; of messages, shorter (nested lists multiply: the oversize scenario sends the big ones).
      const n = rand.chance(0.05) ? rand.int(100, field.listKind === "message" ? 300 : 2000) : rand.int(0, 3);
      return Array.from({ length: n }, () =>
        field.listKind === "scalar" ? randomScalar(rand, field.scalar) : field.listKind === "enum" ? randomEnum(rand, field) : depth > 4 ? create(field.message) : randomMessage(rand, field.message, depth + 1),
      );
    }
    case "map": {
      const entries: [unknown, unknown][] = [];
      for (let n = rand.int(0, 3); n > 0; n--) {
        const key = randomScalar(rand, field.mapKey);
        const value = field.mapKind === "scalar" ? randomScalar(rand, field.scalar) : field.mapKind === "enum" ? randomEnum(rand, field) : randomMessage(rand, field.message, depth + 1);
        entries.push([typeof key === "bigint" ? String(key) : key, value]);
      }
      return Object.fromEntries(entries);
    }
  }
}

/** The message's bytes; undefined when protobuf-es refuses to encode what was drawn (e.g. a bad UTF-16 string). */
export function encode(schema: DescMessage, message: Message): Buffer | undefined {
  try {
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch {
    return undefined;
  }
}
