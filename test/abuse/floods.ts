import * as grpc from "@grpc/grpc-js";
import { call, encoded } from "./grpc-surface.js";
import { TaskService } from "../../gen/fastworker/v1/task_service_pb.js";
import type { Tally } from "./tally.js";

const SURFACE = "stream floods";
const raw = (b: Buffer): Buffer => b;

/**
 * Floods of calls: 1,000 watch streams on one connection (the control plane
 * allows 256 at once per connection; the client queues the rest), 40
 * connections with 25 Session streams each, and 3,000 concurrent unary calls
 * over 4 connections. Every call must get a precise answer; then all are
 * cancelled.
 */
export async function floods(address: string, tally: Tally): Promise<void> {
  const options = { "grpc.use_local_subchannel_pool": 1 };
  const first = (stream: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): Promise<string> =>
    new Promise((resolve) => {
      stream.on("data", () => resolve("OK"));
      stream.on("error", () => undefined);
      stream.on("status", (s: grpc.StatusObject) => resolve(grpc.status[s.code] ?? String(s.code)));
    });
  const record = (what: string, statuses: string[]): void => {
    for (const s of statuses) tally.record(SURFACE, `${what}: ${s}`, s !== "OK" && s !== "NOT_FOUND", () => what);
  };

  const one = new grpc.Client(address, grpc.credentials.createInsecure(), options);
  const watches = Array.from({ length: 1000 }, () => one.makeServerStreamRequest("/fastworker.v1.AdminService/WatchStats", raw, raw, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 60_000 }));
  // The first 256 open at once; the rest wait for a slot. Take answers as they come, freeing slots.
  const answers = await Promise.all(watches.map(async (stream) => {
    const status = await first(stream);
    stream.cancel();
    return status;
  }));
  record("1,000 WatchStats on one connection", answers);
  one.close();

  const many = Array.from({ length: 40 }, () => new grpc.Client(address, grpc.credentials.createInsecure(), options));
  const sessions = many.flatMap((c) => Array.from({ length: 25 }, () => c.makeBidiStreamRequest("/fastworker.v1.TaskService/Session", raw, raw)));
  const sessionAnswers = sessions.map((s) => first(s));
  for (const s of sessions) s.write(encoded(TaskService.method.session, { follow: ["no-such-task"] }));
  record("1,000 Sessions on 40 connections", await Promise.all(sessionAnswers));
  for (const s of sessions) s.cancel();
  for (const c of many) c.close();

  const four = Array.from({ length: 4 }, () => new grpc.Client(address, grpc.credentials.createInsecure(), options));
  const unary = await Promise.all(Array.from({ length: 3000 }, (_, i) =>
    call(four[i % 4]!, { path: "/fastworker.v1.TaskService/GetTask", kind: "unary" }, [encoded(TaskService.method.getTask, { id: `no-such-${i}` })]),
  ));
  record("3,000 concurrent GetTask", unary);
  for (const c of four) c.close();
}
