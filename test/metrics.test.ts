import { afterEach, describe, expect, it } from "vitest";
import { Client, TaskFailedError } from "../index.js";
import { startServer } from "./helpers/processes.js";
import { parsePrometheusText, type Exposition } from "./helpers/prometheus-text.js";

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

async function scrape(http: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const response = await fetch(`${http}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parsePrometheusText(await response.text());
}

/** A histogram's buckets never decrease, and the +Inf bucket equals its count. */
function expectConsistentHistogram(metrics: Exposition, name: string, labels: Record<string, string>): void {
  const buckets = metrics.samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => s.value);
  expect(buckets.length).toBeGreaterThan(1);
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
  expect(buckets[buckets.length - 1]).toBe(metrics.value(`${name}_count`, labels));
}

describe("/metrics", () => {
  it("serves Prometheus text whose numbers match the tasks that ran", async () => {
    const server = await startServer(["--tasks", "test/fixtures/basic-tasks.mjs"]);
    client = new Client({ server: server.grpc });
    const n = 25;
    await Promise.all(Array.from({ length: n }, (_, i) => client!.run("add", { a: i, b: 1 })));
    await expect(client.run("boom", { message: "no" })).rejects.toBeInstanceOf(TaskFailedError);
    const later = await client.submit("sleep", { ms: 1 }, { delayMs: 600_000, priority: "low" });
    await client.cancel(later.id);
    const queued = await client.submit("nobody-serves-this", {}, { priority: "high" });

    const metrics = await scrape(server.http);
    expect(metrics.types.get("fastworker_tasks_finished_total")).toBe("counter");
    expect(metrics.types.get("fastworker_queue_wait_seconds")).toBe("histogram");
    expect(metrics.types.get("fastworker_queue_depth")).toBe("gauge");

    expect(metrics.value("fastworker_tasks_submitted_total")).toBe(n + 3);
    expect(metrics.value("fastworker_tasks_finished_total", { task: "add", state: "succeeded" })).toBe(n);
    expect(metrics.value("fastworker_tasks_finished_total", { task: "boom", state: "failed" })).toBe(1);
    expect(metrics.value("fastworker_tasks_finished_total", { task: "sleep", state: "cancelled" })).toBe(1);
    expect(metrics.value("fastworker_dispatches_total")).toBe(n + 1);
    expect(metrics.value("fastworker_acks_total")).toBe(n + 1);
    expect(metrics.value("fastworker_lease_expiries_total")).toBe(0);
    expect(metrics.value("fastworker_attempts_lost_total")).toBe(0);

    expect(metrics.value("fastworker_queue_wait_seconds_count", { task: "add", priority: "normal" })).toBe(n);
    expect(metrics.value("fastworker_task_run_seconds_count", { task: "add", outcome: "succeeded" })).toBe(n);
    expect(metrics.value("fastworker_task_run_seconds_count", { task: "boom", outcome: "failed" })).toBe(1);
    expectConsistentHistogram(metrics, "fastworker_queue_wait_seconds", { task: "add", priority: "normal" });
    expectConsistentHistogram(metrics, "fastworker_task_run_seconds", { task: "add", outcome: "succeeded" });

    expect(metrics.value("fastworker_queue_depth", { priority: "high" })).toBe(1);
    expect(metrics.value("fastworker_queue_depth", { priority: "normal" })).toBe(0);
    expect(metrics.value("fastworker_tasks", { state: "succeeded" })).toBe(n);
    expect(metrics.value("fastworker_tasks", { state: "queued" })).toBe(1);
    expect(metrics.value("fastworker_workers", { state: "active" })).toBe(1);
    expect(queued.id).toBeTruthy();
  });

  it("needs the token when the control plane has one, like every RPC", async () => {
    const server = await startServer(["--token", "s3cret-0123456789abcdef"]);
    const refused = await fetch(`${server.http}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/missing or wrong token/);
    expect((await fetch(`${server.http}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const metrics = await scrape(server.http, { authorization: "Bearer s3cret-0123456789abcdef" });
    expect(metrics.value("fastworker_tasks_submitted_total")).toBe(0);
  });
});
