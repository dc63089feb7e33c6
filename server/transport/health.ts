import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { AsyncQueue } from "../../common/async-queue.js";
import { HealthCheckResponse_ServingStatus as ServingStatus, type Health } from "../../gen/grpc/health/v1/health_pb.js";

/** The most statuses List answers with; past it, RESOURCE_EXHAUSTED (what grpc-health-check did). */
const LIST_LIMIT = 100;

/**
 * grpc.health.v1 (Check, Watch, List) for the gRPC port, served from the
 * generated descriptors through the same adapter as fastworker's services.
 *
 * It replaces `grpc-health-check` 2.1, whose behaviour it keeps: Check
 * answers a known service's status and NOT_FOUND ("Health status unknown
 * for service <name>") for others; Watch sends the current status at once
 * (SERVICE_UNKNOWN for an unknown service, without ending the call), then
 * one message per {@link setStatus} of that service, until the caller
 * cancels; List answers every status, or RESOURCE_EXHAUSTED past 100.
 * Unlike the library's lenient decoder, a request that is not a valid
 * message is answered INVALID_ARGUMENT, as on every other method.
 *
 * Why hand-written: the library parses its .proto at import through
 * @grpc/proto-loader and protobufjs (about 50 modules), which nothing else
 * on a probed control plane needs (reflection loads them at its first
 * call). Measured (`bench/experiments/memory-idle.mjs`, fw-server
 * --in-memory, median of 7 starts, RSS at the ready line): with reflection
 * loaded on first use, 62.9 MiB without the library, 65.3 with it preloaded;
 * dropping it and loading reflection lazily together, 66.9 -> 62.8 MiB.
 */
export class HealthStatuses {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<AsyncQueue<ServingStatus>>>();

  /** Starts with each of `services` (the empty name is the server as a whole) at `initial`. */
  constructor(services: Iterable<string>, initial: ServingStatus) {
    for (const name of services) this.statuses.set(name, initial);
  }

  /** Sets a service's status and sends it to the service's watchers (even when unchanged, as the library did). */
  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const watcher of this.watchers.get(service) ?? []) watcher.push(status);
  }

  /** The implementation to mount (`addServiceImpl(server, Health, statuses.impl, ...)`). */
  readonly impl: ServiceImpl<typeof Health> = {
    check: (request) => {
      const status = this.statuses.get(request.service);
      if (status === undefined) throw new ConnectError(`Health status unknown for service ${request.service}`, Code.NotFound);
      return { status };
    },
    watch: (request, ctx) => this.watch(request.service, ctx.signal),
    list: () => {
      if (this.statuses.size > LIST_LIMIT) throw new ConnectError("Too many services to list.", Code.ResourceExhausted);
      return { statuses: Object.fromEntries([...this.statuses].map(([name, status]) => [name, { status }])) };
    },
  };

  /**
   * The current status, then each one set, until `signal` aborts (the caller
   * cancelled). Status changes are few (serving at start, not serving at
   * stop), so a watcher's queue needs no bound.
   */
  private async *watch(service: string, signal: AbortSignal): AsyncGenerator<{ status: ServingStatus }> {
    const updates = new AsyncQueue<ServingStatus>();
    const end = (): void => updates.close();
    let watchers = this.watchers.get(service);
    if (watchers === undefined) this.watchers.set(service, (watchers = new Set()));
    watchers.add(updates);
    signal.addEventListener("abort", end);
    if (signal.aborted) end();
    try {
      yield { status: this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN };
      for await (const status of updates) yield { status };
    } finally {
      signal.removeEventListener("abort", end);
      watchers.delete(updates);
      if (watchers.size === 0) this.watchers.delete(service);
    }
  }
}
