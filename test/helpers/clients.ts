import { afterEach } from "vitest";
import { Client, type ClientOptions } from "../../index.js";

const open = new Set<Client>();

afterEach(async () => {
  const clients = [...open];
  open.clear();
  await Promise.all(clients.map((c) => c.close()));
});

/** A Client for a control plane (address or server process), closed after the test. */
export function connect(server: string | { grpc: string }, options: Omit<ClientOptions, "server"> = {}): Client {
  const client = new Client({ ...options, server: typeof server === "string" ? server : server.grpc });
  open.add(client);
  return client;
}
