import { Code, ConnectError } from "@connectrpc/connect";
import type {
  ReportResultsRequest,
  ReportResultsRequestSchema,
  ReportResultsResponse,
  ReportResultsResponseSchema,
  WorkerService,
} from "../gen/fastworker/v1/worker_service_pb.js";
import type { BidiCall, ServiceClient } from "../common/transport/grpc-client.js";

interface Waiting {
  resolve(response: ReportResultsResponse): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * One worker session's ReportResults stream, used like a unary call:
 * send(request) resolves with that request's response (the control plane
 * answers each request once, in order). If the stream breaks, or a response
 * does not come within `timeoutMs`, every waiting send fails and the stream
 * is done; the next report opens a new one.
 */
export class ReportStream {
  private readonly call: BidiCall<typeof ReportResultsRequestSchema, typeof ReportResultsResponseSchema>;
  private readonly waiting: Waiting[] = [];
  private failure: ConnectError | undefined;

  constructor(
    client: ServiceClient<typeof WorkerService>,
    readonly session: string,
    /** The session's secret, presented with every report. */
    private readonly secret: string,
    private readonly timeoutMs: number,
  ) {
    const call = client.reportResults();
    this.call = call;
    void (async () => {
      try {
        for await (const response of call.responses) {
          const next = this.waiting.shift();
          if (next === undefined) throw new ConnectError("an unexpected report response", Code.Internal);
          clearTimeout(next.timer);
          next.resolve(response);
        }
        this.fail(new ConnectError("the control plane ended the report stream", Code.Unavailable));
      } catch (err) {
        this.fail(ConnectError.from(err));
      }
    })();
  }

  /** False once the stream broke: open a new one. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  send(request: Omit<ReportResultsRequest, "$typeName" | "workerId" | "sessionSecret">): Promise<ReportResultsResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new ConnectError(`no answer to a report within ${this.timeoutMs / 1000}s`, Code.DeadlineExceeded));
      }, this.timeoutMs);
      this.waiting.push({ resolve, reject, timer });
      this.call.send({ ...request, workerId: this.session, sessionSecret: this.secret });
    });
  }

  /** Ends the stream (the session is over). */
  close(): void {
    this.fail(new ConnectError("the report stream was closed", Code.Canceled));
  }

  private fail(err: ConnectError): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.call.cancel();
    }
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
