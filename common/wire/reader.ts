/**
 * A protobuf binary reader for the hand-written codecs of the hot messages
 * (see codecs.ts): varints, fixed64 doubles, length-delimited strings and
 * sub-messages, and skipping of unknown fields. Malformed input throws a
 * RangeError (the transport answers INTERNAL / the call fails).
 */
export class Reader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint as a number (exact up to 2^53; larger values lose precision). */
  uvarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) throw new RangeError("truncated varint");
    let byte = buf[pos++]!;
    let value = byte & 0x7f;
    if (byte >= 0x80) {
      let scale = 0x80;
      const last = pos + 9; // at most 10 bytes in all
      do {
        if (pos >= this.end) throw new RangeError("truncated varint");
        byte = buf[pos++]!;
        value += (byte & 0x7f) * scale;
        scale *= 0x80;
      } while (byte >= 0x80 && pos < last);
      if (byte >= 0x80) throw new RangeError("varint too long");
    }
    this.pos = pos;
    return value;
  }

  /** An int32 (or enum) varint: its low 32 bits, signed (negative values come sign-extended to 10 bytes). */
  int32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      if (pos >= this.end) throw new RangeError("truncated varint");
      byte = buf[pos++]!;
      if (shift < 32) result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 70);
    if (byte >= 0x80) throw new RangeError("varint too long");
    this.pos = pos;
    return result | 0;
  }

  /** An int64 varint as a number (exact within ±2^53; negative values take 10 bytes on the wire). */
  int64(): number {
    const start = this.pos;
    const value = this.uvarint();
    if (this.pos - start < 10) return value;
    let big = 0n;
    let shift = 0n;
    for (let p = start; p < this.pos; p++) {
      big |= BigInt(this.buf[p]! & 0x7f) << shift;
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, big));
  }

  /** A uint32 varint: its low 32 bits, unsigned. */
  uint32(): number {
    return this.int32() >>> 0;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new RangeError("truncated double");
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** The end offset of a length-delimited field starting here (after reading its length). */
  delimited(): number {
    const length = this.uvarint();
    const end = this.pos + length;
    if (end > this.end) throw new RangeError("truncated length-delimited field");
    return end;
  }

  string(): string {
    const end = this.delimited();
    const value = this.buf.toString("utf8", this.pos, end);
    this.pos = end;
    return value;
  }

  /** The raw bytes of a length-delimited field (a view). */
  bytes(): Buffer {
    const end = this.delimited();
    const value = this.buf.subarray(this.pos, end);
    this.pos = end;
    return value;
  }

  /** Fails when a nested message's fields ran past its declared end (a malformed length inside). */
  check(end: number): void {
    if (this.pos !== end) throw new RangeError("a field runs past the end of its message");
  }

  /** Skips a field's value of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uvarint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new RangeError("truncated field");
  }
}
