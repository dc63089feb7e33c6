import { hotMessages, type WireMessage } from "../../gen/fastworker/v1/hot_wire.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

/** Encodes and decodes one message type as protobuf-es does, on Node Buffers (what grpc-js hands over and takes). */
export interface Codec<T> {
  encode(message: T): Buffer;
  decode(bytes: Buffer): T;
}

/**
 * The codecs grpc-definition.ts uses for the messages every task crosses
 * (Session, Dispatch, ReportResults, both directions), by type name. Their
 * write and read functions are generated from proto/ by
 * scripts/protoc-gen-fastworker-wire.mjs (buf.gen.yaml's hot= options say
 * which messages) into gen/fastworker/v1/hot_wire.ts; see ARCHITECTURE.md,
 * "Encoding the hot messages", and codecs.spec.ts.
 */
export const HOT_CODECS: ReadonlyMap<string, Codec<unknown>> = new Map(hotMessages.map((message) => [message.typeName, codecOf(message)]));

function codecOf<T>(message: WireMessage<T>): Codec<T> {
  return {
    encode(value) {
      const w = new Writer();
      message.write(w, value);
      return w.finish();
    },
    decode(bytes) {
      const r = new Reader(bytes);
      return message.read(r, r.len, 1);
    },
  };
}
