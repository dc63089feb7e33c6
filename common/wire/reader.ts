import type { UnknownField } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { isUtf8 } from "node:buffer";
import type { WireReader } from "../../gen/fastworker/v1/hot_wire.js";

/**
 * protobuf-es's limit on nested messages (and groups skipped inside them),
 * counted from 1 for the outermost message.
 */
const RECURSION_LIMIT = 100;

/**
 * The protobuf binary reader behind the generated codecs of the hot messages
 * (gen/fastworker/v1/hot_wire.ts). Every method reads exactly as
 * protobuf-es 2.13's BinaryReader and fromBinary() do, including how they
 * treat malformed input (a known field's wire type is not checked; a
 * sub-message's fields may run past its length), so that a message decodes to
 * the same value, or fails, whichever codec reads it. Reads past the end of
 * the buffer throw a RangeError.
 */
export class Reader implements WireReader {
  /** The offset of the next byte to read. */
  pos = 0;
  /** The length of the buffer: the end of the outermost message. */
  readonly len: number;

  constructor(readonly buf: Buffer) {
    this.len = buf.length;
  }

  /** Fails when a read went past the end of the buffer. */
  private assertBounds(): void {
    if (this.pos > this.len) throw new RangeError("premature EOF");
  }

  /**
   * A field tag, `fieldNo << 3 | wireType`. Refuses field number 0, wire
   * types 6 and 7, and tags that do not fit in 32 bits.
   */
  tag(): number {
    let tag = this.buf[this.pos]!;
    if (tag < 0x80) {
      this.pos++;
    } else {
      const start = this.pos;
      tag = this.uint32();
      const read = this.pos - start;
      if (read > 5 || (read === 5 && this.buf[this.pos - 1]! > 0x0f)) throw new Error("illegal tag: varint overflows uint32");
    }
    if (tag < 8 || (tag & 7) > 5) throw new Error(`illegal tag: field no ${tag >>> 3} wire type ${tag & 7}`);
    return tag;
  }

  /**
   * A uint32 varint (also lengths): up to 10 bytes, of which the low 32 bits
   * count (the steps of protobuf-es's varint32read).
   */
  uint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    let result = b & 0x7f;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 7;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 14;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++]!;
    result |= (b & 0x7f) << 21;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++]!;
    result |= (b & 0x0f) << 28;
    for (let read = 5; (b & 0x80) !== 0 && read < 10; read++) b = buf[this.pos++]!;
    if ((b & 0x80) !== 0) throw new Error("invalid varint");
    this.assertBounds();
    return result >>> 0;
  }

  /** An int32 or enum varint: the low 32 bits, signed. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** A bool varint: true when any of its low 64 bits is set. */
  bool(): boolean {
    const b = this.buf[this.pos]!;
    if (b < 0x80) {
      this.pos++;
      return b !== 0;
    }
    const [lo, hi] = this.varint64();
    return lo !== 0 || hi !== 0;
  }

  /** An int64 varint, exact over the whole range (a bigint, as protobuf-es gives it). */
  int64(): bigint {
    const b = this.buf[this.pos]!;
    if (b < 0x80) {
      this.pos++;
      return BigInt(b);
    }
    const [lo, hi] = this.varint64();
    return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  /**
   * The low 64 bits of a varint of up to 10 bytes, as [low 32, high 32]
   * (the steps of protobuf-es's varint64read).
   */
  private varint64(): [number, number] {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      b = buf[this.pos++]!;
      lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.assertBounds();
        return [lo, hi];
      }
    }
    b = buf[this.pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x70) >> 4;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return [lo, hi];
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      b = buf[this.pos++]!;
      hi |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.assertBounds();
        return [lo, hi];
      }
    }
    throw new Error("invalid varint");
  }

  /** A little-endian 64-bit float. */
  double(): number {
    if (this.pos + 8 > this.len) throw new RangeError("premature EOF");
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /**
   * A length-delimited UTF-8 string, validated as protobuf-es validates proto3
   * strings: invalid UTF-8 throws a TypeError. A leading byte order mark is
   * dropped, as protobuf-es's TextDecoder drops it (Buffer#toString keeps it,
   * so those few strings go through protobuf-es's own decoder).
   */
  string(): string {
    const length = this.uint32();
    const start = this.pos;
    const end = start + length;
    if (end > this.len) throw new RangeError("premature EOF");
    this.pos = end;
    const buf = this.buf;
    if (length >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
      return getTextEncoding().decodeUtf8(buf.subarray(start, end), true);
    }
    const value = buf.toString("utf8", start, end);
    // Decoding replaces invalid UTF-8 by U+FFFD: only a string holding one can have been invalid.
    if (value.includes("\uFFFD") && !isUtf8(buf.subarray(start, end))) throw new TypeError("invalid UTF-8 in a string field");
    return value;
  }

  /**
   * The end of a length-delimited sub-message starting here (after reading
   * its length). Not checked against the buffer: reading past the buffer
   * throws, and fields running past this end are read on, as protobuf-es does.
   */
  messageEnd(): number {
    const length = this.uint32();
    return this.pos + length;
  }

  /** Refuses a message nested deeper than protobuf-es reads (`depth` 1 = outermost). */
  checkDepth(depth: number, typeName: string): void {
    if (depth > RECURSION_LIMIT) throw new Error(`cannot decode ${typeName} from binary: maximum recursion depth of ${RECURSION_LIMIT} reached`);
  }

  /**
   * Skips the value of an unknown field and keeps it in `message.$unknown`,
   * as fromBinary() does. `depth` is the message's nesting (1 = outermost):
   * groups nested deeper than RECURSION_LIMIT in all are refused.
   */
  unknown(message: { $unknown?: UnknownField[] }, tag: number, depth: number): void {
    const start = this.pos;
    this.skip(tag & 7, tag >>> 3, RECURSION_LIMIT - depth);
    (message.$unknown ??= []).push({ no: tag >>> 3, wireType: tag & 7, data: this.buf.subarray(start, this.pos) });
  }

  /** Skips one value of a wire type (a group up to its matching end tag). */
  private skip(wireType: number, fieldNo: number, recursionBudget: number): void {
    switch (wireType) {
      case 0:
        while (this.buf[this.pos++]! & 0x80) {
          // a varint of any length
        }
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const length = this.uint32();
        this.pos += length;
        break;
      }
      case 3:
        if (recursionBudget <= 0) throw new Error("maximum recursion depth reached");
        for (;;) {
          const tag = this.tag();
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== fieldNo) throw new Error("invalid end group tag");
            break;
          }
          this.skip(tag & 7, tag >>> 3, recursionBudget - 1);
        }
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`cannot skip wire type ${wireType}`);
    }
    this.assertBounds();
  }
}
