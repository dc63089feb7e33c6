// Experiment, not used by default runs: measures what a faster UTF-8 encoder
// for protobuf-es would give, without touching the core. Preload it into the
// fastworker processes:
//   NODE_OPTIONS="--import=$PWD/bench/experiments/fast-utf8-encode.mjs" npm run bench -- --system fastworker
// protobuf-es encodes every string field with TextEncoder.encode(), which on
// Node 20 costs ~1 µs for a 36-character id (Buffer.from: ~0.08 µs). This sets
// protobuf-es's text encoding (its documented configureTextEncoding hook, via
// the global symbol it reads) to Buffer-based encoding, decoding unchanged.
const td = new TextDecoder();
let tdStrict;
globalThis[Symbol.for("@bufbuild/protobuf/text-encoding")] = {
  encodeUtf8: (text) => Buffer.from(text, "utf8"),
  decodeUtf8(bytes, strict) {
    if (!strict) return td.decode(bytes);
    tdStrict ??= new TextDecoder("utf-8", { fatal: true });
    return tdStrict.decode(bytes);
  },
  checkUtf8(text) {
    try {
      encodeURIComponent(text);
      return true;
    } catch {
      return false;
    }
  },
};
