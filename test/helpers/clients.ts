import { afterEach } from "vitest";
import { Client, type ClientOptions, type TaskFilterOptions, type TaskInfo } from "../../index.js";

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

/**
 * Every task the control plane retains that matches `filter`, full view,
 * newest first: all the pages of 1,000, for checks that must see every task
 * (nothing lost, each run once) however many there are.
 */
export async function allTasks(client: Client, filter: TaskFilterOptions = {}): Promise<TaskInfo[]> {
  const tasks: TaskInfo[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.listTasks({ ...filter, limit: 1000, full: true, ...(pageToken ? { pageToken } : {}) });
    tasks.push(...page.tasks);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  return tasks;
}
