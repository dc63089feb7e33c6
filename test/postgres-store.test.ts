import { afterAll, beforeAll } from "vitest";
import { silentLogger } from "../common/logger.js";
import { missing } from "./helpers/requires.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";
import { Leadership } from "../server/ha/leadership.js";
import { PostgresLog } from "../server/store/postgres-log.js";
import { coldTierSuite } from "../server/store/cold-tier.suite.js";
import { storeSuite, type SuiteStoreOptions, type SuiteSubject } from "../server/store/store.suite.js";
import { TaskStore } from "../server/store/task-store.js";

// The TaskStore suite against PostgreSQL: a real server from Debian's binaries, started here.

const skip = missing("postgresql");
let postgres: TestPostgres | undefined;
let databases = 0;
const sessions = new WeakMap<TaskStore, { leadership: Leadership; url: string }>();

beforeAll(async () => {
  if (!skip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

/** Leads a database (one per store) and opens a store on it. */
async function open(url: string, options: SuiteStoreOptions) {
  const leadership = new Leadership({ url, self: { id: `suite-${Math.random()}`, grpc: "", http: "" }, logger: silentLogger() });
  await leadership.connect();
  const term = await leadership.tryLead();
  if (term === undefined) throw new Error("the suite's database is led by another session");
  const opened = await TaskStore.open({ ...options, log: new PostgresLog(leadership.client, term, url) });
  sessions.set(opened.store, { leadership, url });
  return opened;
}

if (!skip) {
  const subject: SuiteSubject = {
    async make(options) {
      const url = await postgres!.database(`suite_${++databases}`);
      return (await open(url, options)).store;
    },
    async reopen(store, options) {
      const { leadership, url } = sessions.get(store)!;
      await store.close();
      await leadership.stop(); // a restart: the session ends, and the lead with it
      return open(url, options);
    },
  };
  storeSuite("postgresql", subject);
  // PostgreSQL has no synchronous reads: the store keeps every queued task in memory; the behaviour is the same.
  coldTierSuite("postgresql", { ...subject, cold: false });
}
