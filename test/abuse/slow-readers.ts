import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";
import { SessionRequestSchema } from "../../gen/fastworker/v1/task_service_pb.js";
import { WatchStatsRequestSchema } from "../../gen/fastworker/v1/admin_service_pb.js";
import { Client } from "../../index.js";
import { RawWorker } from "./raw-worker.js";
import type { ServerProcess } from "./server-process.js";
import type { Tally } from "./tally.js";

const SURFACE = "slow readers";
const raw = (b: Buffer): Buffer => b;

/**
 * Peers that stop reading: a Session client that follows tasks with large
 * results and never reads its stream (the control plane must end
 * it at its unread bound, RESOURCE_EXHAUSTED, and reset it if the status
 * cannot get through, instead of buffering the results for it); a worker
 * that never reads its dispatch stream (lost at its lease); watch streams
 * nobody reads (held, bounded). Resolves once each ended, with its status.
 */
export async function slowReaders(server: ServerProcess, tally: Tally, log: (line: string) => void): Promise<() => Promise<void>> {
  const client = new grpc.Client(server.grpc, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": -1 });

  // 1. A Session that never reads: it follows 16 finished tasks with 1 MiB results, 25 times over
  //    (400 MiB of outcomes to send; the results themselves are held once, by the store).
  const client0 = new Client({ server: server.grpc });
  const handles = await Promise.all(Array.from({ length: 16 }, () => client0.submit("big", { bytes: 1_000_000 })));
  await Promise.all(handles.map((h) => h.result()));
  await client0.close();
  const ids = handles.map((h) => h.id);
  const session = unreadStream(server.grpc, "/fastworker.v1.TaskService/Session");
  const request = Buffer.from(toBinary(SessionRequestSchema, create(SessionRequestSchema, { follow: ids })));
  for (let i = 0; i < 25; i++) session.write(request);
  await server.waitForLog("the Session stream was not read", 60_000);
  log("slow readers: the control plane ended the unread Session stream");
  // Its status cannot get through (the stream's window is full of unread messages): it is reset.
  const reset = await server.waitForLog(["reset a stream whose peer does not read it", "/fastworker.v1.TaskService/Session"], 30_000).then(() => true, () => false);
  tally.record(SURFACE, reset ? "Session: ended, then reset (its status could not get through)" : "Session: never reset", !reset, () => "a Session client that never reads 400 MiB of outcomes");
  const rst = await session.close();
  tally.record(SURFACE, `Session: the client sees RST_STREAM ${rst}`, rst !== 8, () => "the reset as the stalled client sees it");

  // 2. A worker whose dispatch stream is never read: lost at its lease, its tasks go elsewhere.
  const worker = new RawWorker(server.grpc);
  await worker.register("never-reads", ["echo"]);
  void worker.dispatchUnread(server.grpc);
  const lost = await server.waitForLog([`"workerId":"${worker.workerId}"`, "worker lost: no heartbeat proved"], 60_000).then(
    () => "lost at its lease",
    () => "never lost",
  );
  tally.record(SURFACE, `Dispatch: ${lost}`, lost !== "lost at its lease", () => "a worker that never reads its dispatch stream");
  worker.close();

  // 3. Watch streams nobody reads: grpc-js clients (which read into their own memory), and raw
  //    paused HTTP/2 streams asking for big, frequent WatchStats messages (their window fills; the
  //    control plane ends them once they read nothing for 60 s, if the run lasts that long).
  const watches: grpc.ClientReadableStream<Buffer>[] = [];
  for (let i = 0; i < 20; i++) {
    for (const path of ["/fastworker.v1.AdminService/WatchStats", "/fastworker.v1.AdminService/WatchTasks"]) {
      const stream = client.makeServerStreamRequest(path, raw, raw, Buffer.alloc(0));
      stream.on("error", () => undefined);
      watches.push(stream);
    }
  }
  const stalledSince = Date.now();
  const watchRequest = Buffer.from(toBinary(WatchStatsRequestSchema, create(WatchStatsRequestSchema, { interval: { seconds: 0n, nanos: 100_000_000 }, includeWorkers: true, includeHistory: true })));
  const stalled = Array.from({ length: 5 }, () => {
    const stream = unreadStream(server.grpc, "/fastworker.v1.AdminService/WatchStats");
    stream.write(watchRequest);
    stream.end();
    return stream;
  });
  return async () => {
    let open = 0;
    for (const stream of watches) {
      open++;
      stream.cancel();
    }
    tally.record(SURFACE, `Watch*: ${open} unread streams held, then cancelled`, false, () => "40 watch streams nobody reads");
    if (Date.now() - stalledSince > 70_000) {
      const ended = await server.waitForLog("the WatchStats stream read nothing for 60s", 1000).then(() => true, () => false);
      tally.record(SURFACE, ended ? "WatchStats: a stalled reader ended after 60 s" : "WatchStats: a stalled reader never ended", !ended, () => "paused HTTP/2 WatchStats streams");
    } else {
      tally.record(SURFACE, "WatchStats: stalled readers held (the run was shorter than 60 s)", false, () => "");
    }
    await Promise.all(stalled.map((stream) => stream.close(0)));
    client.close();
  };
}

/**
 * A gRPC call on a raw HTTP/2 stream that is paused from the start: its
 * client never reads, so the stream's flow-control window fills and the
 * control plane's writes wait (what a client whose process is stuck looks
 * like). grpc-js clients read into their own memory instead, so they cannot
 * play this part.
 */
function unreadStream(address: string, path: string): { write(message: Buffer): void; end(): void; close(waitMs?: number): Promise<number> } {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => undefined);
  stream.pause();
  const closed = new Promise<number>((resolve) => stream.on("close", () => resolve(stream.rstCode ?? -1)));
  return {
    write(message) {
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);
      stream.write(frame);
    },
    end() {
      stream.end();
    },
    /** Reads again and resolves with the stream's RST code: the control plane's, or, if it is still open after `waitMs`, our own CANCEL. */
    async close(waitMs = 10_000) {
      stream.resume();
      const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), waitMs);
      const code = await closed;
      clearTimeout(timer);
      session.close();
      return code;
    },
  };
}
