import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { encode, randomMessage } from "./messages.js";
import { mutateBytes } from "./mutate.js";
import type { Random } from "../helpers/random.js";
import type { Tally } from "./tally.js";

/** A method to fuzz: its path, kind, and request type when known. */
interface Target {
  path: string;
  kind: DescMethod["methodKind"];
  method: DescMethod | undefined;
}

/** Every method on the gRPC port: each service in gen/ (see services.ts), plus server reflection, whose request types are not generated here. */
export function grpcTargets(services: readonly DescService[]): Target[] {
  return [
    ...services.flatMap((s) => s.methods.map((m): Target => ({ path: `/${s.typeName}/${m.name}`, kind: m.methodKind, method: m }))),
    { path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", kind: "bidi_streaming", method: undefined },
    { path: "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", kind: "bidi_streaming", method: undefined },
  ];
}

/** Statuses that must never answer input, however bad. */
const NEVER = new Set(["INTERNAL", "UNKNOWN", "DATA_LOSS", "UNAVAILABLE", "UNIMPLEMENTED"]);
const CALL_DEADLINE_MS = 10_000;
const raw = (b: Buffer): Buffer => b;

/** One request body: random bytes, a random valid message, or a mutated one. */
function requestBytes(rand: Random, target: Target): Buffer {
  const r = rand.next();
  if (target.method === undefined || r < 0.3) {
    if (target.method === undefined && r < 0.5) {
      // A plausible reflection request: list_services (field 7) or a file_containing_symbol (field 4) lookup.
      return rand.chance(0.5) ? Buffer.from([0x3a, 0x00]) : Buffer.concat([Buffer.from([0x22, 0x16]), Buffer.from("fastworker.v1.TaskServi")]).subarray(0, 24);
    }
    return rand.bytes(rand.length(4096));
  }
  const valid = encode(target.method.input, randomMessage(rand, target.method.input)) ?? Buffer.alloc(0);
  return r < 0.7 ? valid : mutateBytes(rand, valid);
}

/**
 * Sends random, valid-but-random and mutated protobuf bytes to every gRPC
 * method, raw (identity serializers), `count` inputs spread over
 * `connections` channels; records the status of each (for streams: the first
 * message, or the status if none came first).
 */
export class GrpcSurface {
  private readonly clients: grpc.Client[];

  constructor(address: string, connections: number, private readonly targets: readonly Target[]) {
    this.clients = Array.from({ length: connections }, () =>
      new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 }),
    );
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  /** Sends input `i` (its bytes come from `rand`) and records the answer. */
  async send(rand: Random, i: number, tally: Tally, okIds?: (path: string, response: Buffer) => void): Promise<void> {
    const target = rand.pick(this.targets);
    const client = this.clients[i % this.clients.length]!;
    const messages = target.kind === "bidi_streaming" || target.kind === "client_streaming"
      ? Array.from({ length: rand.int(1, 3) }, () => requestBytes(rand, target))
      : [requestBytes(rand, target)];
    const status = await call(client, target, messages, okIds);
    const allowed = status === "DEADLINE_EXCEEDED" ? target.path.endsWith("/WaitTask") : !NEVER.has(status);
    tally.record(`grpc ${target.path.split("/")[1]}`, status, !allowed, () => `${target.path} ${messages.map((m) => m.toString("base64")).join(" ")}`);
  }
}

/** Calls one method with raw request bytes; resolves with the status name ("OK" for a first stream message). */
export function call(client: grpc.Client, target: { path: string; kind: string }, messages: Buffer[], okIds?: (path: string, response: Buffer) => void): Promise<string> {
  const deadline = Date.now() + CALL_DEADLINE_MS;
  return new Promise((resolve) => {
    const done = (status: string): void => resolve(status);
    const name = (err: grpc.ServiceError | null | undefined): string => (err ? (grpc.status[err.code] ?? String(err.code)) : "OK");
    switch (target.kind) {
      case "unary":
        client.makeUnaryRequest(target.path, raw, raw, messages[0]!, new grpc.Metadata(), { deadline }, (err, response) => {
          if (!err && response !== undefined) okIds?.(target.path, response);
          done(name(err));
        });
        return;
      case "server_streaming": {
        const stream = client.makeServerStreamRequest(target.path, raw, raw, messages[0]!, new grpc.Metadata(), { deadline });
        firstAnswer(stream, done);
        return;
      }
      default: {
        const stream = client.makeBidiStreamRequest(target.path, raw, raw, new grpc.Metadata(), { deadline });
        firstAnswer(stream, done);
        for (const m of messages) stream.write(m);
        stream.end();
      }
    }
  });
}

/** Resolves with "OK" at the first message (then cancels the call), or with the status it ends with. */
function firstAnswer(stream: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>, done: (status: string) => void): void {
  let settled = false;
  const settle = (status: string): void => {
    if (settled) return;
    settled = true;
    done(status);
  };
  stream.on("data", () => {
    settle("OK");
    stream.cancel();
  });
  stream.on("error", () => undefined); // the status event says it
  stream.on("status", (status: grpc.StatusObject) => settle(grpc.status[status.code] ?? String(status.code)));
}

/** A valid message of a method's request type, encoded (for the other surfaces). */
export function encoded<M extends DescMethod>(method: M, init: Parameters<typeof create<M["input"]>>[1]): Buffer {
  return encode(method.input, create(method.input, init))!;
}
