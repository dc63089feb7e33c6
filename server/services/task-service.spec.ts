import { create } from "@bufbuild/protobuf";
import { createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Priority, TaskView } from "../../gen/fastworker/v1/task_pb.js";
import { ListTasksRequestSchema, TaskService, type ListTasksResponse } from "../../gen/fastworker/v1/task_service_pb.js";
import { MAX_MESSAGE_BYTES } from "../../common/split-by-bytes.js";
import { engineConfig } from "../engine/config.js";
import { ControlPlane } from "../engine/control-plane.js";
import { NO_OPTIONS } from "../store/task-record.js";
import { taskService } from "./task-service.js";

const ctx = createHandlerContext({
  service: TaskService,
  method: TaskService.method.listTasks,
  protocolName: "test",
  requestMethod: "POST",
  url: "/fastworker.v1.TaskService/ListTasks",
});

describe("ListTasks", () => {
  it("ends a FULL page before it passes MAX_MESSAGE_BYTES, and the next page goes on from there", async () => {
    const plane = new ControlPlane(engineConfig({ maxPayloadBytes: 2 * 1024 * 1024 }));
    const service = taskService(plane);
    const ids = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const argsJson = JSON.stringify(`${i}`.padEnd(1024 * 1024, "x"));
      ids.add(plane.submit({ name: "big", argsJson, priority: Priority.NORMAL, delayMs: 0, options: NO_OPTIONS }, 0).id);
    }
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = (await service.listTasks(create(ListTasksRequestSchema, { view: TaskView.FULL, pageSize: 1000, pageToken }), ctx)) as ListTasksResponse;
      pages++;
      expect(page.tasks.length).toBeGreaterThan(0);
      expect(page.tasks.length * 1024 * 1024).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(page.totalSize).toBe(10);
      seen.push(...page.tasks.map((t) => t.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== "" && pages < 20);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(seen)).toEqual(ids);
    expect(seen).toHaveLength(10);
    // BASIC pages carry no args: 1000 per page as asked.
    const basic = (await service.listTasks(create(ListTasksRequestSchema, { pageSize: 1000 }), ctx)) as ListTasksResponse;
    expect(basic.tasks).toHaveLength(10);
  });
});
