import { describe, expect, it } from "vitest";
import { GrpcConnection } from "../common/transport/grpc-client.js";
import { WorkerService } from "../gen/fastworker/v1/worker_service_pb.js";
import { startServer } from "./helpers/processes.js";

// Found by the abuse suite: on SIGTERM, a durable fw-server ended its streams only after its state was
// closed, so a draining worker's dispatch stream, ending, wrote that session's removal to a closed LMDB
// environment ("The environment is already closed") and the process exited 1 instead of 0.

describe("graceful stop with streams open", () => {
  it("exits 0 when a draining worker's dispatch stream is still open: streams end before the state closes", async () => {
    const server = await startServer([]);
    const connection = new GrpcConnection({ address: server.grpc });
    try {
      const workers = connection.service(WorkerService);
      const { workerId, sessionSecret } = await workers.registerWorker({ name: "draining", host: "test", pid: 1, concurrency: 1, version: "t", tasks: [{ name: "t" }] });
      const dispatch = workers.dispatch({ workerId, sessionSecret })[Symbol.asyncIterator]();
      const { value: hello } = await dispatch.next();
      const reports = workers.reportResults();
      reports.send({ workerId, sessionSecret, heartbeat: { ping: hello!.ping, capacity: 0, draining: true } });
      await reports.responses[Symbol.asyncIterator]().next(); // the control plane knows it drains
      const exit = await server.stop("SIGTERM");
      expect(exit.code, server.output()).toBe(0);
      expect(server.stderr.join("\n")).not.toContain("already closed");
    } finally {
      connection.close();
    }
  });
});
