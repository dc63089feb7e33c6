import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../common/logger.js";
import { GrpcConnection, type ServiceClient } from "../../common/transport/grpc-client.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { listenOnLoopback } from "../../test/helpers/loopback-grpc.js";
import { addServiceImpl } from "./grpc-adapter.js";
import { GuardedServer } from "./guarded-server.js";
import { HealthStatuses } from "./health.js";

// grpc.health.v1 over a real gRPC server on port 0, as a probe or a load balancer calls it: the behaviour
// grpc-health-check had (Check, Watch, List; NOT_FOUND for an unknown service; SERVICE_UNKNOWN on Watch).

let connection: GrpcConnection | undefined;
afterEach(() => {
  connection?.close();
  connection = undefined;
});

async function serve(statuses: HealthStatuses): Promise<ServiceClient<typeof Health>> {
  const server = new GuardedServer();
  addServiceImpl(server, Health, statuses.impl, silentLogger());
  connection = new GrpcConnection({ address: (await listenOnLoopback(server)).address });
  return connection.service(Health);
}

describe("HealthStatuses (grpc.health.v1)", () => {
  it("Check answers a known service's status, and NOT_FOUND for others", async () => {
    const statuses = new HealthStatuses(["", "fastworker.v1.TaskService"], ServingStatus.SERVING);
    const health = await serve(statuses);
    expect(await health.check({})).toMatchObject({ status: ServingStatus.SERVING });
    statuses.setStatus("fastworker.v1.TaskService", ServingStatus.NOT_SERVING);
    expect(await health.check({ service: "fastworker.v1.TaskService" })).toMatchObject({ status: ServingStatus.NOT_SERVING });
    const unknown = await health.check({ service: "nope" }).then(() => undefined, (err: unknown) => err);
    expect(unknown).toBeInstanceOf(ConnectError);
    expect([(unknown as ConnectError).code, (unknown as ConnectError).rawMessage]).toEqual([Code.NotFound, "Health status unknown for service nope"]);
  });

  it("Watch sends the current status, then every status set, until the caller cancels", async () => {
    const statuses = new HealthStatuses([""], ServingStatus.SERVING);
    const health = await serve(statuses);
    const cancel = new AbortController();
    const stream = health.watch({}, { signal: cancel.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ status: ServingStatus.SERVING });
    statuses.setStatus("", ServingStatus.NOT_SERVING);
    expect((await stream.next()).value).toMatchObject({ status: ServingStatus.NOT_SERVING });
    statuses.setStatus("", ServingStatus.NOT_SERVING); // unchanged, and still sent (the library did so)
    expect((await stream.next()).value).toMatchObject({ status: ServingStatus.NOT_SERVING });
    cancel.abort();
    const ended = await stream.next().then(() => undefined, (err: unknown) => err);
    expect((ended as ConnectError | undefined)?.code).toBe(Code.Canceled);
  });

  it("Watch of an unknown service sends SERVICE_UNKNOWN and stays open until the service is known", async () => {
    const statuses = new HealthStatuses([""], ServingStatus.SERVING);
    const health = await serve(statuses);
    const cancel = new AbortController();
    const stream = health.watch({ service: "later" }, { signal: cancel.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ status: ServingStatus.SERVICE_UNKNOWN });
    statuses.setStatus("later", ServingStatus.SERVING);
    expect((await stream.next()).value).toMatchObject({ status: ServingStatus.SERVING });
    cancel.abort();
    await stream.next().catch(() => undefined);
  });

  it("List answers every status, and RESOURCE_EXHAUSTED past 100 services", async () => {
    const statuses = new HealthStatuses(["", "a"], ServingStatus.SERVING);
    const health = await serve(statuses);
    const listed = await health.list({});
    expect(Object.fromEntries(Object.entries(listed.statuses).map(([name, { status }]) => [name, status]))).toEqual({ "": ServingStatus.SERVING, a: ServingStatus.SERVING });
    for (let i = 0; i < 100; i++) statuses.setStatus(`s${i}`, ServingStatus.SERVING);
    const refused = await health.list({}).then(() => undefined, (err: unknown) => err);
    expect((refused as ConnectError | undefined)?.code).toBe(Code.ResourceExhausted);
  });
});
