import { create, fromBinary, ScalarType, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { DurationSchema, ListValueSchema, StructSchema, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { SessionRequestSchema, SessionResponseSchema, SubmitRequestSchema } from "../../gen/fastworker/v1/task_service_pb.js";
import { DispatchResponseSchema, ReportResultsRequestSchema, ReportResultsResponseSchema } from "../../gen/fastworker/v1/worker_service_pb.js";
import { HOT_CODECS, type Codec } from "./codecs.js";
import { seededRandom } from "../../test/helpers/random.js";

// The generated codecs must be indistinguishable from protobuf-es: the same
// bytes for every message, the same decoded value (or both failing) for any
// input, well formed or not. Everything random here is seeded, so a failure
// replays; failures print the input as hex.

const HOT = [SessionRequestSchema, SessionResponseSchema, DispatchResponseSchema, ReportResultsRequestSchema, ReportResultsResponseSchema];

function codecOf(schema: DescMessage): Codec<unknown> {
  const codec = HOT_CODECS.get(schema.typeName);
  if (codec === undefined) throw new Error(`no generated codec for ${schema.typeName}`);
  return codec;
}

type Rand = () => number;
const pick = <T>(rand: Rand, values: readonly T[]): T => values[Math.floor(rand() * values.length)]!;
const u32 = (rand: Rand): number => Math.floor(rand() * 2 ** 32);

const STRINGS = [
  "",
  "a",
  "add",
  "3b9989f4-ce52-42da-8822-5e92ddda9746",
  '{"a":1,"b":[true,null]}',
  "héllo wörld ✓",
  "astral 🚀𝄞",
  "\u0000\u007f\u0080\u07ff\u0800\uffff",
  "\uD800 lone surrogates \uDC00", // both encoders write U+FFFD for each
  "\uFEFFstarts with a byte order mark", // protobuf-es's TextDecoder drops it on decoding
  "ends with one\uFEFF",
  "__proto__",
  "x".repeat(24), // the longest string the writer tries as ASCII first
  "x".repeat(25),
  "twenty-three ascii then\u00e9", // not ASCII in the last place it tries: written again the general way
  "\u007f\u007f\u0080",
  "x".repeat(127),
  "y".repeat(128),
  "é".repeat(9000), // 18,000 bytes: a three-byte length prefix
];

function randomString(rand: Rand): string {
  if (rand() < 0.8) return pick(rand, STRINGS);
  // Random code points from every UTF-8 length class (surrogate halves included).
  const units = Array.from({ length: Math.floor(rand() * 12) }, () => String.fromCodePoint(Math.floor(pick(rand, [0x7f, 0x7ff, 0xffff, 0x10ffff]) * rand())));
  return units.join("");
}

const INT32 = [0, 1, -1, 127, 128, -128, 16383, 16384, 2 ** 31 - 1, -(2 ** 31)];
const UINT32 = [0, 1, 127, 128, 16384, 2 ** 31, 2 ** 32 - 1];
const INT64 = [0n, 1n, -1n, 127n, 128n, 2n ** 31n, -(2n ** 31n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)];
const DOUBLES = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53 + 2, 0.1, 1795569738528.5];
const ENUMS = [0, 1, 2, 3, 6, 99, -5, 2 ** 31 - 1, -(2 ** 31)];

function randomScalar(type: ScalarType, rand: Rand): unknown {
  const special = rand() < 0.6;
  switch (type) {
    case ScalarType.STRING:
      return randomString(rand);
    case ScalarType.BOOL:
      return rand() < 0.5;
    case ScalarType.INT32:
      return special ? pick(rand, INT32) : u32(rand) | 0;
    case ScalarType.UINT32:
      return special ? pick(rand, UINT32) : u32(rand);
    case ScalarType.INT64:
      return special ? pick(rand, INT64) : BigInt.asIntN(64, (BigInt(u32(rand)) << 32n) | BigInt(u32(rand)));
    case ScalarType.DOUBLE:
      return special ? pick(rand, DOUBLES) : new Float64Array(new Uint32Array([u32(rand), u32(rand)]).buffer)[0];
    default:
      throw new Error(`no generator for scalar type ${ScalarType[type]}: add one (the plugin supports it now)`);
  }
}

/** A google.protobuf.Value of every kind, nested up to `depth` levels. */
function randomValue(rand: Rand, depth: number): Value {
  const kinds = depth > 0 ? 6 : 4;
  switch (Math.floor(rand() * kinds)) {
    case 0:
      return create(ValueSchema, { kind: { case: "nullValue", value: pick(rand, [0, 0, 0, 5, -1]) } });
    case 1:
      return create(ValueSchema, { kind: { case: "numberValue", value: randomScalar(ScalarType.DOUBLE, rand) as number } });
    case 2:
      return create(ValueSchema, { kind: { case: "stringValue", value: randomString(rand) } });
    case 3:
      return create(ValueSchema, { kind: { case: "boolValue", value: rand() < 0.5 } });
    case 4: {
      const fields = Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [randomString(rand), randomValue(rand, depth - 1)]));
      return create(ValueSchema, { kind: { case: "structValue", value: create(StructSchema, { fields }) } });
    }
    default: {
      const values = Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth - 1));
      return create(ValueSchema, { kind: { case: "listValue", value: create(ListValueSchema, { values }) } });
    }
  }
}

/** A random message: each field often left unset, else anywhere in its type's range. */
function randomMessage(schema: DescMessage, rand: Rand, depth = 0): unknown {
  if (schema.typeName === ValueSchema.typeName) return randomValue(rand, 3);
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (rand() < 0.3) continue;
    init[field.localName] = randomField(field, rand, depth);
  }
  return create(schema, init as never);
}

function randomField(field: DescField, rand: Rand, depth: number): unknown {
  const count = (): number => (rand() < 0.1 ? 20 : Math.floor(rand() * 4));
  switch (field.fieldKind) {
    case "scalar":
      return randomScalar(field.scalar, rand);
    case "enum":
      return pick(rand, ENUMS);
    case "message":
      return depth > 5 ? undefined : randomMessage(field.message, rand, depth + 1);
    case "list":
      return Array.from({ length: count() }, () =>
        field.listKind === "message" ? randomMessage(field.message, rand, depth + 1) : field.listKind === "scalar" ? randomScalar(field.scalar, rand) : pick(rand, ENUMS),
      );
    case "map":
      if (field.mapKind !== "scalar") throw new Error("no generator for this map");
      return Object.fromEntries(Array.from({ length: count() }, () => [randomString(rand), randomScalar(field.scalar, rand)]));
  }
}

/**
 * What a sender might pass instead of `message`: plain objects without
 * $typeName at every level, and about half of the fields that hold their
 * zero value (or an unset oneof) left out, as create() would fill them.
 */
function toInit(value: unknown, rand: Rand): unknown {
  if (Array.isArray(value)) return value.map((item) => toInit(item, rand));
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return value;
  const init: Record<string, unknown> = {};
  const oneof = "case" in value; // { case, value }: both stay
  for (const [key, field] of Object.entries(value)) {
    if (key === "$typeName") continue;
    if (!oneof && isZero(field) && rand() < 0.5) continue;
    init[key] = toInit(field, rand);
  }
  return init;
}

function isZero(v: unknown): boolean {
  if (v === "" || v === 0 || v === 0n || v === false) return !Object.is(v, -0);
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object" && v !== null && !("$typeName" in v)) {
    const keys = Object.keys(v);
    return keys.length === 0 || (keys.length === 1 && keys[0] === "case" && (v as { case?: unknown }).case === undefined);
  }
  return false;
}

/** The input of a failing case/** The input of a failing case, for the report (long ones shortened: the seeded generator replays them). */
const hex = (bytes: Uint8Array): string => {
  const text = Buffer.from(bytes).toString("hex");
  return text.length > 400 ? `${text.slice(0, 400)}… (${bytes.length} bytes)` : text;
};

/** Fields no fastworker message has, of every wire type: varint, fixed64, length-delimited, a group holding a group, fixed32. */
const UNKNOWN_FIELDS = Buffer.from([0xa0, 0x06, 0x96, 0x01, 0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0xb2, 0x06, 0x02, 0x68, 0x69, 0xbb, 0x06, 0x0b, 0x08, 0x01, 0x0c, 0xbc, 0x06, 0xc5, 0x06, 9, 9, 9, 9]);

/** A length-delimited field: its tag, its length, the bytes. */
function lengthDelimited(fieldNo: number, bytes: Uint8Array): Buffer {
  const length: number[] = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(fieldNo << 3) | 2, ...length]), bytes]);
}

type Outcome = { threw: true; error: unknown } | { threw: false; value: unknown };
function attempt(decode: () => unknown): Outcome {
  try {
    return { threw: false, value: decode() };
  } catch (error) {
    return { threw: true, error };
  }
}

/** Decodes `bytes` with both and expects both to fail, or both to give the same value. Returns whether they failed. */
function expectSameDecoding(schema: DescMessage, bytes: Buffer): boolean {
  const ours = attempt(() => codecOf(schema).decode(bytes));
  const reference = attempt(() => fromBinary(schema, bytes));
  const context = `${schema.typeName} from ${hex(bytes)}`;
  expect(ours.threw, `${context}: ${ours.threw ? `ours threw ${ours.error}` : `protobuf-es threw ${reference.threw && reference.error}`}`).toBe(reference.threw);
  if (!ours.threw && !reference.threw) {
    expect(ours.value, context).toStrictEqual(reference.value);
    // What was decoded (unknown fields included) encodes to the same bytes too.
    expectSameEncoding(schema, ours.value);
  }
  return ours.threw;
}

/** Encodes `message` with both and expects the same bytes; returns them. */
function expectSameEncoding(schema: DescMessage, message: unknown): Buffer {
  const reference = Buffer.from(toBinary(schema, message as never));
  expect(hex(codecOf(schema).encode(message)), schema.typeName).toBe(hex(reference));
  return reference;
}

describe("generated codecs of the hot messages, against protobuf-es", () => {
  it("cover exactly the hot messages", () => {
    expect([...HOT_CODECS.keys()].sort()).toEqual(HOT.map((s) => s.typeName).sort());
  });

  for (const schema of HOT) {
    it(`${schema.typeName}: the same bytes and the same decoded objects for 400 random messages`, () => {
      const rand = seededRandom(schema.typeName.length * 7919);
      for (let i = 0; i < 400; i++) {
        const message = randomMessage(schema, rand);
        const bytes = expectSameEncoding(schema, message);
        expect(expectSameDecoding(schema, bytes)).toBe(false);
        // With fields a newer peer might add, before and after the known ones.
        expect(expectSameDecoding(schema, Buffer.concat([UNKNOWN_FIELDS, bytes, UNKNOWN_FIELDS]))).toBe(false);
      }
    });
  }

  for (const schema of HOT) {
    it(`${schema.typeName}: an init shape (fields absent, nested init shapes) encodes as toBinary(create(init)) for 400 random ones`, () => {
      const rand = seededRandom(schema.typeName.length * 104729);
      for (let i = 0; i < 400; i++) {
        const init = toInit(randomMessage(schema, rand), rand);
        const reference = Buffer.from(toBinary(schema, create(schema, init as never)));
        expect(hex(codecOf(schema).encode(init)), `${schema.typeName} from ${JSON.stringify(init, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`).toBe(hex(reference));
      }
    });
  }

  for (const schema of HOT) {
    it(`${schema.typeName}: two encodings one after the other decode merged, as protobuf-es merges them`, () => {
      const rand = seededRandom(schema.typeName.length * 31337);
      for (let i = 0; i < 200; i++) {
        const first = Buffer.from(toBinary(schema, randomMessage(schema, rand) as never));
        const second = Buffer.from(toBinary(schema, randomMessage(schema, rand) as never));
        expect(expectSameDecoding(schema, Buffer.concat([first, second]))).toBe(false);
      }
    });
  }

  it("merges a submission sent in two parts (sub-messages, the args Value's oneof, maps), as protobuf-es does", () => {
    const rand = seededRandom(4242);
    for (let i = 0; i < 300; i++) {
      const parts = [0, 1].map(() => toBinary(SubmitRequestSchema, randomMessage(SubmitRequestSchema, rand) as never));
      // Two args structs, so that the oneof's message case merges too.
      const args = [0, 1].map(() => toBinary(SubmitRequestSchema, create(SubmitRequestSchema, { args: randomValue(rand, 2) })));
      const task = Buffer.concat([...parts, ...(i % 2 === 0 ? args : [])]);
      expect(expectSameDecoding(SessionRequestSchema, lengthDelimited(1, lengthDelimited(2, task)))).toBe(false);
    }
  });

  for (const schema of HOT) {
    it(`${schema.typeName}: random bytes and mutated encodings decode the same with both, or fail with both`, () => {
      const rand = seededRandom(schema.typeName.length * 104729);
      const outcomes = { threw: 0, decoded: 0 };
      const count = (threw: boolean): void => void (threw ? outcomes.threw++ : outcomes.decoded++);
      for (let i = 0; i < 300; i++) {
        const valid = Buffer.from(toBinary(schema, randomMessage(schema, rand) as never));
        // Pure noise.
        count(expectSameDecoding(schema, Buffer.from(Array.from({ length: Math.floor(rand() * 48) }, () => Math.floor(rand() * 256)))));
        if (valid.length === 0) continue;
        // One to three flipped bits.
        const flipped = Buffer.from(valid);
        for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) flipped[Math.floor(rand() * flipped.length)]! ^= 1 << Math.floor(rand() * 8);
        count(expectSameDecoding(schema, flipped));
        // A byte replaced, one inserted, a cut.
        const at = Math.floor(rand() * valid.length);
        const replaced = Buffer.from(valid);
        replaced[at] = Math.floor(rand() * 256);
        count(expectSameDecoding(schema, replaced));
        count(expectSameDecoding(schema, Buffer.concat([valid.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), valid.subarray(at)])));
        count(expectSameDecoding(schema, valid.subarray(0, at)));
      }
      // Both kinds of outcome must really have been exercised.
      expect(outcomes.threw).toBeGreaterThan(100);
      expect(outcomes.decoded).toBeGreaterThan(100);
    });
  }

  it("refuses every truncation of a message made of one field, as protobuf-es does", () => {
    const schema = DispatchResponseSchema;
    const message = create(schema, { assignments: [{ taskId: "t-1", attempt: 3, argsJson: '{"a":1}', metadata: { traceparent: "00-abc-01" }, timeoutSeconds: 2.5 }] });
    const bytes = expectSameEncoding(schema, message);
    expect.assertions(1 + 2 * (bytes.length - 1));
    for (let cut = 1; cut < bytes.length; cut++) {
      const truncated = bytes.subarray(0, cut);
      expect(() => codecOf(schema).decode(truncated), `cut at ${cut}`).toThrow();
      expect(() => fromBinary(schema, truncated), `protobuf-es, cut at ${cut}`).toThrow();
    }
  });

  it("int64 (Duration.seconds, in a submission's delay) is exact over its whole range", () => {
    const schema = SessionRequestSchema;
    const values = [...INT64, 2n ** 53n, 2n ** 53n + 3n, -(2n ** 63n) + 1n, 9007199254740993n, -9007199254740993n, 1234567890123456789n];
    for (const seconds of values) {
      const message = create(schema, { submits: [{ task: { task: "t", delay: { seconds, nanos: -1 }, timeout: { seconds: -seconds === 2n ** 63n ? 0n : -seconds } } }] });
      const bytes = expectSameEncoding(schema, message);
      expectSameDecoding(schema, bytes);
      const decoded = codecOf(schema).decode(bytes) as typeof message;
      expect(decoded.submits[0]!.task!.delay!.seconds).toBe(seconds);
    }
  });

  it("reads over-long varints as protobuf-es does: bits past 64 (int64, bool) or 32 (int32, uint32) ignored, an 11th byte refused (but skipped in an unknown field)", () => {
    // Duration { seconds (int64) } and Heartbeat { ping (uint32), capacity (int32), draining (bool) }.
    const tenBytes = (last: number): number[] => [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, last];
    const cases: [DescMessage, number[]][] = [
      [DurationSchema, [0x08, ...tenBytes(0x7f)]],
      [DurationSchema, [0x08, ...tenBytes(0x01)]],
      [DurationSchema, [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]], // only bit 64 set: 0
      [DurationSchema, [0x08, ...tenBytes(0xff), 0x01]], // 11 bytes
      [ReportResultsRequestSchema, [0x32, 11, 0x08, ...tenBytes(0x7f)]],
      [ReportResultsRequestSchema, [0x32, 11, 0x10, ...tenBytes(0x7f)]],
      [ReportResultsRequestSchema, [0x32, 11, 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]], // bool: false
      [ReportResultsRequestSchema, [0x32, 11, 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]], // bool: true
      [ReportResultsRequestSchema, [0x32, 6, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10]], // uint32: bit 32 dropped
      [ReportResultsResponseSchema, [0xa0, 0x06, ...Array(11).fill(0x80), 0x01, 0x08, 0x05]], // an unknown field's varint of any length is skipped
    ];
    for (const [schema, bytes] of cases) {
      if (schema === DurationSchema) {
        // Duration is not hot by itself: read it inside a submission's delay.
        const inner = Buffer.from(bytes);
        const submit = Buffer.from([0x32, inner.length, ...inner]);
        const session = Buffer.from([0x0a, submit.length + 2, 0x12, submit.length, ...submit]);
        expectSameDecoding(SessionRequestSchema, session);
      } else {
        expectSameDecoding(schema, Buffer.from(bytes));
      }
    }
    const decoded = codecOf(ReportResultsRequestSchema).decode(Buffer.from([0x32, 11, 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]));
    expect(decoded).toMatchObject({ heartbeat: { draining: false } });
  });

  it("refuses malformed tags and wire types as protobuf-es does", () => {
    const schema = SessionResponseSchema;
    const inputs = [
      [0x00, 0x01], // field number 0
      [0x0e], // wire type 6
      [0x0f], // wire type 7
      [0x0c], // an end-group tag where no group is open
      [0xf8, 0xff, 0xff, 0xff, 0x7f, 0x00], // a tag wider than 32 bits
      [0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00], // a tag in six bytes
      [0x0b, 0x0c], // a group that ends with another field's end tag
      [0xab, 0x01], // a group never ended
    ];
    expect.assertions(inputs.length * 2);
    for (const input of inputs) {
      const bytes = Buffer.from(input);
      expect(() => codecOf(schema).decode(bytes), hex(bytes)).toThrow();
      expect(() => fromBinary(schema, bytes), `protobuf-es: ${hex(bytes)}`).toThrow();
    }
  });

  it("reads malformed input that protobuf-es accepts the way it does: any wire type for a known field, fields running past their message's length", () => {
    const schema = SessionResponseSchema;
    const inputs = [
      // TaskOutcome { id: <length 9, though the outcome is 4 bytes long> }, and the bytes after it.
      [0x12, 0x04, 0x0a, 0x09, 0x61, 0x62, 0x0a, 0x01, 0x63, 0x0a, 0x01, 0x64, 0x65, 0x66, 0x67],
      // TaskOutcome.state (an enum, varint) sent with wire type 2: read as a varint all the same.
      [0x12, 0x02, 0x12, 0x05],
      // SessionAccepted.ref (uint32) sent as a 64-bit value: read as a varint.
      [0x0a, 0x02, 0x09, 0x07],
      // A map entry with a third field, which protobuf-es reads as a tag stream (here: an illegal tag).
      [0x0a, 0x05, 0x0a, 0x00, 0x18, 0x00, 0x00],
    ];
    for (const input of inputs) expectSameDecoding(schema, Buffer.from(input));
    // A Struct entry with a key and no value: a null-less zero Value, { kind: { case: undefined } }.
    const structEntry = lengthDelimited(1, Buffer.from([0x0a, 0x01, 0x6b]));
    const args = lengthDelimited(2, lengthDelimited(5, structEntry));
    expectSameDecoding(SessionRequestSchema, lengthDelimited(1, lengthDelimited(2, args)));
    // A metadata entry with neither key nor value: "" → "". One with two keys and two values: the last of each.
    expectSameDecoding(DispatchResponseSchema, lengthDelimited(1, lengthDelimited(8, Buffer.alloc(0))));
    const twice = [0x0a, 0x01, 0x61, 0x12, 0x01, 0x76, 0x0a, 0x01, 0x62, 0x12, 0x01, 0x77];
    expect(expectSameDecoding(DispatchResponseSchema, lengthDelimited(1, lengthDelimited(8, Buffer.from(twice))))).toBe(false);
    const entry = Buffer.from([0x0a, 0x0c, 0x12, 0x0a, 0x4a, 0x08, 0x0a, 0x01, 0x6b, 0x18, 0x07, 0x12, 0x01, 0x76]);
    expectSameDecoding(SessionRequestSchema, Buffer.from([0x0a, entry.length, ...entry.subarray(2)]));
  });

  it("treats a map key named __proto__ as protobuf-es does (a plain object's setter: it is not an own key)", () => {
    const key = lengthDelimited(1, Buffer.from("__proto__"));
    // Struct { fields { "__proto__": { boolValue: true } } } in a submission's args, and metadata { "__proto__": "x" }.
    const structEntry = Buffer.concat([key, lengthDelimited(2, Buffer.from([0x20, 0x01]))]);
    const task = Buffer.concat([lengthDelimited(2, lengthDelimited(5, lengthDelimited(1, structEntry))), lengthDelimited(9, Buffer.concat([key, lengthDelimited(2, Buffer.from("x"))]))]);
    const bytes = lengthDelimited(1, lengthDelimited(2, task));
    expect(expectSameDecoding(SessionRequestSchema, bytes)).toBe(false);
    const decoded = codecOf(SessionRequestSchema).decode(bytes) as ReturnType<typeof fromBinary<typeof SessionRequestSchema>>;
    expect(Object.keys(decoded.submits[0]!.task!.metadata)).toEqual([]);
  });

  it("keeps unknown fields of every wire type in $unknown, as protobuf-es does, and writes them back", () => {
    const unknown = [...UNKNOWN_FIELDS];
    const assignment = [0x0a, 0x01, 0x74, ...unknown, 0x10, 0x02];
    const bytes = Buffer.from([...unknown, 0x0a, assignment.length, ...assignment, 0x18, 0x07]);
    const schema = DispatchResponseSchema;
    expectSameDecoding(schema, bytes);
    const decoded = codecOf(schema).decode(bytes) as ReturnType<typeof fromBinary<typeof schema>>;
    expect(decoded.$unknown?.map((u) => u.no)).toEqual([100, 101, 102, 103, 104]);
    expect(decoded.assignments[0]).toMatchObject({ taskId: "t", attempt: 2 });
    expect(decoded.assignments[0]!.$unknown).toHaveLength(5);
    // Re-encoded, the unknown fields follow the known ones, as protobuf-es writes them.
    expectSameEncoding(schema, decoded);
    expectSameEncoding(schema, fromBinary(schema, bytes));
  });

  it("merges a message field sent twice, and keeps the last value of a scalar, as protobuf-es does", () => {
    // ReportResultsRequest { heartbeat { ping: 1, capacity: 2 } heartbeat { ping: 3, draining: true } workerId "a" workerId "b" }
    const bytes = Buffer.from([0x32, 0x04, 0x08, 0x01, 0x10, 0x02, 0x32, 0x04, 0x08, 0x03, 0x20, 0x01, 0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62]);
    expectSameDecoding(ReportResultsRequestSchema, bytes);
    expect(codecOf(ReportResultsRequestSchema).decode(bytes)).toMatchObject({ workerId: "b", heartbeat: { ping: 3, capacity: 2, running: 0, draining: true } });
  });

  it("stops at the same nesting depth as protobuf-es (google.protobuf.Value in a submission's args)", () => {
    const schema = SessionRequestSchema;
    const nested = (levels: number): unknown => {
      let value: Value = create(ValueSchema, { kind: { case: "boolValue", value: true } });
      for (let i = 0; i < levels; i++) value = create(ValueSchema, { kind: { case: "listValue", value: create(ListValueSchema, { values: [value] }) } });
      return create(schema, { submits: [{ task: { task: "t", args: value } }] });
    };
    const failedAt = [];
    for (let levels = 44; levels <= 52; levels++) {
      if (expectSameDecoding(schema, expectSameEncoding(schema, nested(levels)))) failedAt.push(levels);
    }
    // SessionRequest > SessionSubmit > SubmitRequest > (Value > ListValue) × levels > Value: 100 messages deep at 48 levels.
    expect(failedAt).toEqual([49, 50, 51, 52]);
  });

  it("refuses groups nested deeper than protobuf-es skips them", () => {
    const schema = ReportResultsResponseSchema;
    const groups = (levels: number): Buffer => Buffer.from([...Array(levels).fill(0xab, 0).flatMap(() => [0xab, 0x01]), ...Array(levels).fill(0).flatMap(() => [0xac, 0x01])]);
    const failedAt = [];
    for (let levels = 97; levels <= 101; levels++) if (expectSameDecoding(schema, groups(levels))) failedAt.push(levels);
    expect(failedAt).toEqual([100, 101]);
  });

  it("refuses to encode values outside their type's range, as protobuf-es does", () => {
    const cases: [DescMessage, unknown][] = [
      [DispatchResponseSchema, { assignments: [{ attempt: 1.5 }] }],
      [DispatchResponseSchema, { assignments: [{ attempt: 2 ** 31 }] }],
      [DispatchResponseSchema, { assignments: [{ priority: NaN }] }],
      [DispatchResponseSchema, { ping: -1 }],
      [DispatchResponseSchema, { ping: 2 ** 32 }],
      [SessionRequestSchema, { submits: [{ task: { delay: { seconds: 2n ** 63n } } }] }],
      [SessionRequestSchema, { submits: [{ task: { delay: { seconds: -(2n ** 63n) - 1n } } }] }],
    ];
    expect.assertions(cases.length * 2);
    for (const [schema, init] of cases) {
      const message = create(schema, init as never);
      expect(() => codecOf(schema).encode(message), JSON.stringify(init, (_, v) => (typeof v === "bigint" ? `${v}n` : v))).toThrow();
      expect(() => toBinary(schema, message as never)).toThrow();
    }
  });

  it("writes lengths of every size class as protobuf-es does (sub-messages of 127, 128, 16383, 16384 bytes and more)", () => {
    const schema = ReportResultsResponseSchema;
    // RejectedItem { taskId: <n bytes> }: the item is n + 2 (or + 3) bytes long.
    for (const n of [0, 1, 124, 125, 126, 127, 128, 16379, 16380, 16381, 16382, 16383, 2 ** 21, 2 ** 21 + 7]) {
      const message = create(schema, { accepted: -1, rejected: [{ taskId: "z".repeat(n), status: { code: 5, message: "é".repeat(n % 200) } }] });
      expectSameDecoding(schema, expectSameEncoding(schema, message));
    }
  });
});
