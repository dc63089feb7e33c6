import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Runtime } from "./runtime.js";
import type { HttpRoute } from "./transport/http-server.js";

/**
 * What the ports serve: the runtime when there is one, else a refusal with a
 * reason a client can act on. The ports come up before the runtime (they
 * must be bound before a control plane can say where it listens), a standby
 * has none until it takes the lead, and a deposed leader loses it: every
 * call then fails UNAVAILABLE saying why, and where the leader is when known.
 */
export class RuntimeGate {
  private runtime: Runtime | undefined;
  private refusal: string;

  constructor(initial: string) {
    this.refusal = initial;
  }

  /** The runtime serving now, if any. */
  get current(): Runtime | undefined {
    return this.runtime;
  }

  /** Serves this runtime from now on. */
  open(runtime: Runtime): void {
    this.runtime = runtime;
  }

  /** Refuses every call from now on, with this reason. */
  close(reason: string): void {
    this.runtime = undefined;
    this.refusal = reason;
  }

  /** An implementation of `service` that forwards each call to the runtime's, or refuses it. */
  service<S extends DescService>(service: S, pick: (runtime: Runtime) => ServiceImpl<S>): ServiceImpl<S> {
    const impl: Record<string, unknown> = {};
    for (const method of service.methods) {
      const name = method.localName;
      impl[name] = (...args: unknown[]): unknown => {
        const runtime = this.runtime;
        if (runtime === undefined) throw new ConnectError(this.refusal, Code.Unavailable);
        return (pick(runtime) as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
      };
    }
    return impl as ServiceImpl<S>;
  }

  /** An HTTP route served by the runtime (e.g. /metrics), or 503 with the reason. */
  route(pick: (runtime: Runtime) => HttpRoute | undefined): HttpRoute {
    return (req, res) => {
      const route = this.runtime === undefined ? undefined : pick(this.runtime);
      if (route !== undefined) return route(req, res);
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" }).end(`${this.refusal}\n`);
    };
  }
}
