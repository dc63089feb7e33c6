import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { GrpcConnection, type BidiCall, type ServiceClient } from "../../common/transport/grpc-client.js";
import {
  DispatchRequestSchema,
  WorkerService,
  type DispatchResponse,
  type ReportResultsRequestSchema,
  type ReportResultsResponse,
  type ReportResultsResponseSchema,
} from "../../gen/fastworker/v1/worker_service_pb.js";

/** A hand-driven worker session: register, a dispatch stream read (or not) on demand, one report stream. */
export class RawWorker {
  private readonly connection: GrpcConnection;
  private readonly service: ServiceClient<typeof WorkerService>;
  private readonly dispatchAbort = new AbortController();
  private reports: BidiCall<typeof ReportResultsRequestSchema, typeof ReportResultsResponseSchema> | undefined;
  private answers: AsyncIterator<ReportResultsResponse> | undefined;
  workerId = "";
  /** RegisterWorkerResponse.session_secret: Dispatch and ReportResults need it with the id. */
  sessionSecret = "";

  constructor(address: string) {
    this.connection = new GrpcConnection({ address });
    this.service = this.connection.service(WorkerService);
  }

  async register(name: string, tasks: string[], extra: { host?: string; version?: string } = {}): Promise<string> {
    const response = await this.service.registerWorker({ name, host: extra.host ?? "abuse", version: extra.version ?? "abuse", pid: 1, concurrency: 16, tasks: tasks.map((t) => ({ name: t })) });
    this.workerId = response.workerId;
    this.sessionSecret = response.sessionSecret;
    return this.workerId;
  }

  /** Opens the dispatch stream, to be read with the iterator. */
  dispatch(): AsyncIterator<DispatchResponse> {
    return this.service.dispatch({ workerId: this.workerId, sessionSecret: this.sessionSecret }, { signal: this.dispatchAbort.signal })[Symbol.asyncIterator]();
  }

  /** Opens the dispatch stream and never reads it (a worker whose stream stalled); resolves with how it ended. */
  dispatchUnread(address: string): Promise<grpc.StatusObject> {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const request = Buffer.from(toBinary(DispatchRequestSchema, create(DispatchRequestSchema, { workerId: this.workerId, sessionSecret: this.sessionSecret })));
    const stream = client.makeServerStreamRequest("/fastworker.v1.WorkerService/Dispatch", (b: Buffer) => b, (b: Buffer) => b, request);
    stream.on("error", () => undefined);
    this.dispatchAbort.signal.addEventListener("abort", () => stream.cancel());
    return new Promise((resolve) =>
      stream.on("status", (status: grpc.StatusObject) => {
        client.close();
        resolve(status);
      }),
    );
  }

  /** Sends one report and waits for its answer (or failure). */
  async report(request: Omit<MessageInitShape<typeof ReportResultsRequestSchema>, "workerId">): Promise<ReportResultsResponse> {
    if (this.reports === undefined) {
      this.reports = this.service.reportResults();
      this.answers = this.reports.responses[Symbol.asyncIterator]();
    }
    this.reports.send({ ...(request as object), workerId: this.workerId, sessionSecret: this.sessionSecret } as MessageInitShape<typeof ReportResultsRequestSchema>);
    const { value, done } = await this.answers!.next();
    if (done) throw new Error("the report stream ended");
    return value;
  }

  close(): void {
    this.dispatchAbort.abort();
    this.reports?.cancel();
    this.connection.close();
  }
}
