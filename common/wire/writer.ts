import type { UnknownField } from "@bufbuild/protobuf";
import type { WireWriter } from "../../gen/fastworker/v1/hot_wire.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Strings up to this many UTF-16 units are tried as ASCII first (see Writer.string). */
const SHORT_TEXT = 24;

/**
 * The protobuf binary writer behind the generated codecs of the hot messages
 * (gen/fastworker/v1/hot_wire.ts). It writes the bytes protobuf-es 2.13's
 * BinaryWriter writes, into one growing Buffer: a sub-message's length is
 * reserved as one byte before its fields are written, and its bytes are moved
 * up only when it turns out longer than 127 bytes. Values out of their
 * type's range throw, as in protobuf-es.
 */
export class Writer implements WireWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** The bytes written (a view into the writer's buffer). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** A field tag. */
  tag(fieldNo: number, wireType: number): void {
    this.varint32(((fieldNo << 3) | wireType) >>> 0);
  }

  /** A uint32 varint. */
  uint32(value: number): void {
    if (value >>> 0 !== value) throw new Error(`invalid uint32: ${value}`);
    this.varint32(value);
  }

  /** An int32 or enum varint: negative values take 10 bytes (sign-extended to 64 bits). */
  int32(value: number): void {
    if ((value | 0) !== value) throw new Error(`invalid int32: ${value}`);
    if (value >= 0) this.varint32(value);
    else this.negativeInt32(value);
  }

  /** An int64 varint (two's complement over 64 bits when negative). */
  int64(value: bigint): void {
    const big = typeof value === "bigint" ? value : BigInt(value);
    if (big > INT64_MAX || big < INT64_MIN) throw new Error(`invalid int64: ${value}`);
    let v = BigInt.asUintN(64, big);
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** A bool varint. */
  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** A little-endian 64-bit float. */
  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (lone surrogates become U+FFFD, as with TextEncoder). */
  string(value: string): void {
    const n = value.length;
    if (n <= SHORT_TEXT) {
      // Short ASCII text (ids, task names, small args and results) is copied code unit by code unit:
      // cheaper than the call into Buffer#write below about 24 characters (measured alone: 40–75 ns
      // against 115 for a 17-character id, and on par at 32; whole messages: npm run bench:codecs,
      // see bench/README's optimisation log). Anything else goes the general way.
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    // UTF-8 needs at most 3 bytes per UTF-16 unit: reserve the length prefix
    // for that, write, then shrink the prefix if the text came out shorter.
    const max = value.length * 3;
    const reserved = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : max < 0x10000000 ? 4 : 5;
    this.ensure(reserved + max);
    const start = this.pos + reserved;
    const length = this.buf.write(value, start, "utf8");
    const needed = varint32Size(length);
    if (needed < reserved) this.buf.copyWithin(start - reserved + needed, start, start + length);
    this.pos = start - reserved;
    this.put(length);
    this.pos += length;
  }

  /** Starts a length-delimited sub-message: returns where its fields begin, for join(). */
  fork(): number {
    this.ensure(1);
    return ++this.pos;
  }

  /** Ends the sub-message begun by fork() (`start` is what it returned), writing its length in front of it. */
  join(start: number): void {
    const length = this.pos - start;
    if (length < 0x80) {
      this.buf[start - 1] = length;
      return;
    }
    const extra = varint32Size(length) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    this.pos = start - 1;
    this.put(length);
    this.pos += length;
  }

  /** Fields kept from decoding that the schema does not know, as they were. */
  unknown(fields: readonly UnknownField[] | undefined): void {
    if (fields === undefined) return;
    for (const { no, wireType, data } of fields) {
      this.tag(no, wireType);
      this.ensure(data.length);
      this.buf.set(data, this.pos);
      this.pos += data.length;
    }
  }

  private varint32(value: number): void {
    this.ensure(5);
    this.put(value);
  }

  /** A uint32 varint where room for it was already ensured (never grows the buffer: bytes after pos stay). */
  private put(value: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  private negativeInt32(value: number): void {
    // Two's complement over 64 bits: the low 32 bits as they are, the high 32 all ones.
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    let lo = value >>> 0;
    let hi = 0xffffffff;
    for (let i = 0; i < 9; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = 1;
    this.pos = pos;
  }
}

function varint32Size(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}
