import { create, fromBinary, fromJson, ScalarType, toBinary, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { SessionRequestSchema, SessionResponseSchema } from "../../gen/fastworker/v1/task_service_pb.js";
import { DispatchResponseSchema, ReportResultsRequestSchema, ReportResultsResponseSchema } from "../../gen/fastworker/v1/worker_service_pb.js";
import { HOT_CODECS } from "./codecs.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ["", "a", "add", "3b9989f4-ce52-42da-8822-5e92ddda9746", '{"a":1,"b":2}', "héllo wörld ✓ 🚀", "x".repeat(300), "\u0000\u00ff\uffff"];

/** A random message of a schema: every field, by its kind, often left at its default. */
function randomMessage(schema: DescMessage, rand: () => number, depth = 0): unknown {
  if (schema.typeName === ValueSchema.typeName) {
    const json = [null, true, 1.5, "s", { a: [1, "2", { b: false }] }, []][Math.floor(rand() * 6)];
    return fromJson(ValueSchema, json as JsonValue);
  }
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (rand() < 0.3) continue;
    init[field.localName] = randomField(field, rand, depth);
  }
  return create(schema, init as never);
}

function randomScalar(type: ScalarType, rand: () => number): unknown {
  switch (type) {
    case ScalarType.STRING:
      return STRINGS[Math.floor(rand() * STRINGS.length)];
    case ScalarType.BOOL:
      return rand() < 0.5;
    case ScalarType.INT32:
      return [0, 1, -1, 127, 128, 300, 2 ** 31 - 1, -(2 ** 31), Math.floor(rand() * 1e6)][Math.floor(rand() * 9)];
    case ScalarType.UINT32:
      return [0, 1, 127, 128, 2 ** 32 - 1, Math.floor(rand() * 1e9)][Math.floor(rand() * 6)];
    case ScalarType.INT64:
      return [0n, 1n, -1n, 2n ** 40n, BigInt(Math.floor(rand() * 1e9)), -(2n ** 33n)][Math.floor(rand() * 6)];
    case ScalarType.DOUBLE:
      return [0, -0, 1.5, -2.25, 1795569738528.5, Number.MAX_VALUE, rand()][Math.floor(rand() * 7)];
    default:
      throw new Error(`no generator for scalar type ${type}`);
  }
}

function randomField(field: DescField, rand: () => number, depth: number): unknown {
  const one = (): unknown => {
    switch (field.fieldKind) {
      case "scalar":
        return randomScalar(field.scalar, rand);
      case "enum":
        return [0, 1, 2, 3, 99, -5][Math.floor(rand() * 6)];
      case "message":
        return depth > 4 ? undefined : randomMessage(field.message, rand, depth + 1);
      case "list":
        return undefined;
      case "map":
        return undefined;
    }
  };
  if (field.fieldKind === "list") {
    const n = Math.floor(rand() * 4);
    return Array.from({ length: n }, () =>
      field.listKind === "message" ? randomMessage(field.message, rand, depth + 1) : field.listKind === "scalar" ? randomScalar(field.scalar, rand) : 1,
    );
  }
  if (field.fieldKind === "map") {
    const n = Math.floor(rand() * 3);
    return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${randomScalar(ScalarType.STRING, rand)}${i}`, randomScalar(ScalarType.STRING, rand)]));
  }
  return one();
}

const SCHEMAS = [SessionRequestSchema, SessionResponseSchema, DispatchResponseSchema, ReportResultsRequestSchema, ReportResultsResponseSchema];

describe("hand-written codecs of the hot messages", () => {
  for (const schema of SCHEMAS) {
    it(`${schema.typeName}: same meaning as protobuf-es, both ways, on 500 random messages`, () => {
      const codec = HOT_CODECS.get(schema.typeName)!;
      const rand = prng(schema.typeName.length * 7919);
      for (let i = 0; i < 500; i++) {
        const message = randomMessage(schema, rand) as never;
        const reference = fromBinary(schema, toBinary(schema, message));
        // Ours reads what protobuf-es writes…
        expect(codec.decode(Buffer.from(toBinary(schema, message)))).toEqual(reference);
        // …and protobuf-es reads what ours writes.
        expect(fromBinary(schema, codec.encode(message))).toEqual(reference);
      }
    });
  }

  it("rejects truncated input with a RangeError instead of reading past the end", () => {
    const codec = HOT_CODECS.get(DispatchResponseSchema.typeName)!;
    const bytes = codec.encode(create(DispatchResponseSchema, { assignments: [{ taskId: "t", argsJson: '{"a":1}', attempt: 3 }], ping: 9 }));
    for (let cut = 1; cut < bytes.length; cut++) {
      try {
        codec.decode(bytes.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(RangeError);
      }
    }
  });

  it("writes and reads varints at the edges", () => {
    const w = new Writer(1);
    const values = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 53 - 1];
    for (const v of values) w.uvarint(v);
    w.int64(-1n);
    w.int32Field(1, -7);
    const r = new Reader(w.finish());
    for (const v of values) expect(r.uvarint()).toBe(v);
    expect(r.int64()).toBe(-1);
    expect(r.uvarint()).toBe(8);
    expect(r.int32()).toBe(-7);
    expect(r.done).toBe(true);
  });
});

describe("writer edge cases", () => {
  it("writes a one-character string correctly when the length prefix lands at the end of the buffer", () => {
    for (let size = 1; size <= 24; size++) {
      for (let pad = 0; pad < 16; pad++) {
        const w = new Writer(size);
        for (let i = 0; i < pad; i++) w.uvarint(1);
        w.stringField(1, "3");
        const r = new Reader(w.finish());
        for (let i = 0; i < pad; i++) r.uvarint();
        expect(r.uvarint()).toBe(10);
        expect(r.string()).toBe("3");
      }
    }
  });

  it("refuses a nested length that runs past its message", () => {
    // SessionResponse { outcomes: [ TaskOutcome { id: <length 9, but only 2 bytes left in the outcome> } ] }, followed by more bytes.
    const bytes = Buffer.from([0x12, 0x04, 0x0a, 0x09, 0x61, 0x62, 0x0a, 0x01, 0x63, 0x0a, 0x01, 0x64, 0x65, 0x66, 0x67]);
    expect(() => HOT_CODECS.get(SessionResponseSchema.typeName)!.decode(bytes)).toThrow(RangeError);
  });
});
