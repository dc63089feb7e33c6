/**
 * A protobuf binary writer for the hand-written codecs of the hot messages
 * (see codecs.ts). It writes into one growing Buffer; a nested message's
 * length prefix is reserved before its fields are written and the bytes are
 * moved down if the prefix turned out shorter, so no chunk list and no
 * second pass. Strings are written with Buffer#write (no intermediate copy).
 */
export class Writer {
  private buf: Buffer;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** The bytes written (a view into the writer's buffer: copy it if the writer is reused). */
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

  /** An unsigned varint up to 2^53 (lengths, tags, uint32, non-negative int32/int64). */
  uvarint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (value >= 0x80) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** An int64 varint (two's complement over 64 bits when negative). */
  int64(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Bytes as they are (an already encoded message body). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A field tag. */
  tag(field: number, wireType: number): void {
    this.uvarint(field * 8 + wireType);
  }

  /** int32: negative values take 10 bytes (sign-extended), as protobuf requires. */
  int32Field(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, 0);
    if (value >= 0) this.uvarint(value);
    else this.negativeVarint(value);
  }

  /** uint32, enum (non-negative), bool as a varint field, skipped when zero (proto3 default). */
  uvarintField(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, 0);
    this.uvarint(value);
  }

  boolField(field: number, value: boolean): void {
    if (!value) return;
    this.tag(field, 0);
    this.uvarint(1);
  }

  doubleField(field: number, value: number): void {
    if (value === 0 && !Object.is(value, -0)) return;
    this.tag(field, 1);
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A string field, skipped when empty. */
  stringField(field: number, value: string): void {
    if (value.length === 0) return;
    this.tag(field, 2);
    this.string(value);
  }

  /** A string with its length prefix. */
  string(value: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; reserve that, write, then fix the prefix size.
    const max = value.length * 3;
    this.ensure(max + 5);
    const prefix = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : max < 0x10000000 ? 4 : 5;
    const start = this.pos + prefix;
    const written = this.buf.write(value, start, "utf8");
    this.fixPrefix(start, prefix, written);
  }

  /**
   * Writes a length-delimited field whose content `write` produces (a nested
   * message or a map entry). Always written, even when empty (a set message).
   */
  messageField(field: number, write: () => void): void {
    this.tag(field, 2);
    this.ensure(5);
    const start = this.pos + 5;
    this.pos = start;
    write();
    this.fixPrefix(start, 5, this.pos - start);
  }

  /**
   * Writes `length` as the varint before the bytes at [start, start+length),
   * which `reserved` bytes were left for. Writes in place (never through
   * ensure(): growing here would copy only up to the prefix and lose the bytes).
   */
  private fixPrefix(start: number, reserved: number, length: number): void {
    const needed = length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5;
    const prefixAt = start - reserved;
    if (needed < reserved) this.buf.copyWithin(prefixAt + needed, start, start + length);
    let value = length;
    let pos = prefixAt;
    while (value >= 0x80) {
      this.buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[pos] = value;
    this.pos = prefixAt + needed + length;
  }

  private negativeVarint(value: number): void {
    // Two's complement over 64 bits: low 32 bits as unsigned, high 32 bits all ones.
    this.ensure(10);
    let lo = value >>> 0;
    let hi = 0xffffffff;
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < 9; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi = hi >>> 7;
    }
    buf[pos++] = 1;
    this.pos = pos;
  }
}
