import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { AsyncQueue } from "../../common/async-queue.js";
import { silentLogger } from "../../common/logger.js";
import { GrpcConnection } from "../../common/transport/grpc-client.js";
import { AdminService, type WatchStatsResponse } from "../../gen/fastworker/v1/admin_service_pb.js";
import { TaskService, type SessionResponse } from "../../gen/fastworker/v1/task_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { listenOnLoopback, rawClient } from "../../test/helpers/loopback-grpc.js";
import { addServiceImpl } from "./grpc-adapter.js";
import { GuardedServer } from "./guarded-server.js";
import { HealthStatuses } from "./health.js";

// Garbage bytes on every kind of method: INVALID_ARGUMENT naming the method, never INTERNAL, and the
// server goes on serving. Sent raw, with an identity serializer, as a hostile peer would.

async function serve(): Promise<string> {
  const server = new GuardedServer();
  const sessions: AsyncQueue<SessionResponse>[] = [];
  addServiceImpl(server, TaskService, {
    getTask: () => ({}),
    session: () => {
      const out = new AsyncQueue<SessionResponse>();
      sessions.push(out);
      return out;
    },
  }, silentLogger());
  addServiceImpl(server, AdminService, { watchStats: () => new AsyncQueue<WatchStatsResponse>() }, silentLogger());
  addServiceImpl(server, Health, new HealthStatuses([""], HealthCheckResponse_ServingStatus.SERVING).impl, silentLogger());
  return (await listenOnLoopback(server)).address;
}

const raw = (b: Buffer): Buffer => b;
/** Bytes no protobuf decoder takes: field 1 with wire type 7, which does not exist. */
const GARBAGE = Buffer.from([0x0f, 0x00]);

function unary(client: grpc.Client, path: string): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => client.makeUnaryRequest(path, raw, raw, GARBAGE, (err) => resolve(err ?? undefined)));
}

function streamStatus(call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    call.on("data", () => undefined);
    call.on("error", () => undefined);
    call.on("status", resolve);
  });
}

describe("GuardedServer", () => {
  it("answers undecodable requests INVALID_ARGUMENT on unary, server-streaming and bidi methods", async () => {
    const address = await serve();
    const client = rawClient(address);
    for (const path of ["/fastworker.v1.TaskService/GetTask", "/grpc.health.v1.Health/Check"]) {
      const err = await unary(client, path);
      expect([err?.code, err?.details], path).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(new RegExp(`^the request to ${path.replace(/\./g, "\\.")} is not a valid message: `))]);
    }
    for (const path of ["/fastworker.v1.AdminService/WatchStats", "/grpc.health.v1.Health/Watch"]) {
      const status = await streamStatus(client.makeServerStreamRequest(path, raw, raw, GARBAGE));
      expect(status.code, path).toBe(grpc.status.INVALID_ARGUMENT);
    }
    const bidi = client.makeBidiStreamRequest("/fastworker.v1.TaskService/Session", raw, raw);
    const ended = streamStatus(bidi);
    bidi.write(Buffer.alloc(0)); // a valid, empty request first
    bidi.write(GARBAGE);
    const status = await ended;
    expect([status.code, status.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringContaining("/fastworker.v1.TaskService/Session is not a valid message")]);
    // Still serving.
    const connection = new GrpcConnection({ address });
    try {
      expect(await connection.service(TaskService).getTask({ id: "x" })).toBeDefined();
    } finally {
      connection.close();
    }
  });
});
