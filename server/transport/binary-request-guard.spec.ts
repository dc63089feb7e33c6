import { create, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { GetTaskRequestSchema, TaskService } from "../../gen/fastworker/v1/task_service_pb.js";
import { AdminService } from "../../gen/fastworker/v1/admin_service_pb.js";
import { guardBinaryRequests } from "./binary-request-guard.js";

// connect-es answers a binary body it cannot parse with INTERNAL; the guard makes it INVALID_ARGUMENT,
// in whichever protocol the request came. Found by the abuse suite (test/abuse/).

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(guard: boolean): Promise<string> {
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(TaskService, { getTask: (request) => ({ task: { id: request.id } }) });
      router.service(AdminService, { watchStats: async function* () { yield {}; } });
      if (guard) guardBinaryRequests(router, 1024 * 1024);
    },
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Bytes no protobuf decoder takes: field 1 with wire type 7. */
const GARBAGE = Buffer.from([0x0f, 0x00]);
const envelope = (message: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);

describe("guardBinaryRequests", () => {
  it("answers an undecodable Connect binary body INVALID_ARGUMENT (400) naming the method; a valid one goes through", async () => {
    for (const guard of [false, true]) {
      const base = await serve(guard);
      const bad = await fetch(`${base}/fastworker.v1.TaskService/GetTask`, { method: "POST", headers: { "content-type": "application/proto" }, body: GARBAGE });
      const error = (await bad.json()) as { code: string; message: string };
      if (!guard) {
        // The negative control: what connect-es does on its own.
        expect([bad.status, error.code]).toEqual([500, "internal"]);
      } else {
        expect([bad.status, error.code]).toEqual([400, "invalid_argument"]);
        expect(error.message).toMatch(/^the request to \/fastworker\.v1\.TaskService\/GetTask is not a valid message: /);
        const good = await fetch(`${base}/fastworker.v1.TaskService/GetTask`, {
          method: "POST", headers: { "content-type": "application/proto" }, body: Buffer.from(toBinary(GetTaskRequestSchema, create(GetTaskRequestSchema, { id: "t1" }))),
        });
        expect(good.status).toBe(200);
      }
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it("does the same for enveloped bodies (Connect streaming, gRPC-web), in their own error format", async () => {
    const base = await serve(true);
    const connect = await fetch(`${base}/fastworker.v1.AdminService/WatchStats`, { method: "POST", headers: { "content-type": "application/connect+proto" }, body: envelope(GARBAGE) });
    const body = Buffer.from(await connect.arrayBuffer());
    expect(body.subarray(5).toString()).toMatch(/"code":"invalid_argument".*is not a valid message/);
    const web = await fetch(`${base}/fastworker.v1.TaskService/GetTask`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: envelope(GARBAGE) });
    const trailers = web.headers.get("grpc-status") ?? Buffer.from(await web.arrayBuffer()).toString();
    expect(trailers).toMatch(/grpc-status: ?3|^3$/);
  });
});
