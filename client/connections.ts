import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { leaderFromMessage } from "../common/discovery/leader-hint.js";
import { ServerList } from "../common/discovery/server-locator.js";
import { validateToken } from "../common/transport/auth.js";
import { checkedAddress, GrpcConnection, type ServiceClient, type TlsClientOptions } from "../common/transport/grpc-client.js";

/**
 * The control plane(s) a Client talks to. One address: one connection. Several
 * (a group: one leads, the others stand by): one connection each, made on
 * first use, and calls go to the current one; when it is unreachable or
 * answers as a standby (UNAVAILABLE), the client moves to the next address,
 * or straight to the leader the standby names.
 */
export class ClientConnections {
  private readonly servers: ServerList;
  private readonly connections = new Map<string, GrpcConnection>();
  private readonly clients = new Map<string, unknown>();

  constructor(
    addresses: readonly string[],
    private readonly options: { token: string | undefined; tls?: TlsClientOptions | undefined },
  ) {
    this.servers = new ServerList(addresses);
    // Connections are made on first use; a bad address or token fails here, at construction.
    for (const address of this.servers.all) checkedAddress(address, options.tls);
    if (options.token !== undefined) validateToken(options.token, "the token");
  }

  /** The address calls go to now. */
  get address(): string {
    return this.servers.current;
  }

  /** A typed client for a service of the current control plane. */
  service<S extends DescService>(service: S): ServiceClient<S> {
    const address = this.servers.current;
    const key = `${address}\u0000${service.typeName}`;
    let client = this.clients.get(key) as ServiceClient<S> | undefined;
    if (client === undefined) {
      let connection = this.connections.get(address);
      if (connection === undefined) this.connections.set(address, (connection = new GrpcConnection({ address, token: this.options.token, tls: this.options.tls })));
      client = connection.service(service);
      this.clients.set(key, client);
    }
    return client;
  }

  /** A call to `address` failed: on UNAVAILABLE, later calls go elsewhere (to the leader, when it was named). */
  failed(address: string, err: ConnectError): void {
    if (err.code === Code.Unavailable) this.servers.failed(address, leaderFromMessage(err.rawMessage));
  }

  /**
   * Runs a unary call on the current control plane; when that is
   * unreachable or a standby (UNAVAILABLE: the call was not carried out),
   * tries the next one, each address at most twice. With one address: one try.
   */
  async call<T>(fn: (service: <S extends DescService>(s: S) => ServiceClient<S>) => Promise<T>): Promise<T> {
    const tries = this.servers.size === 1 ? 1 : this.servers.size * 2;
    for (let attempt = 1; ; attempt++) {
      const address = this.servers.current;
      try {
        return await fn((s) => this.service(s));
      } catch (err) {
        const e = ConnectError.from(err);
        if (e.code !== Code.Unavailable || attempt >= tries) throw e;
        this.failed(address, e);
      }
    }
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
    this.clients.clear();
  }
}
