/**
 * An Express app that hands work to fastworker. With tracing on (see
 * examples/telemetry.mjs), one trace shows the request, the submission, the
 * time in the queue and the execution on a worker.
 *
 *   npx fw-server --tasks examples/tasks.ts                 # in one terminal
 *   node --import tsx --import ./examples/telemetry.mjs examples/express-app.ts
 *   curl -s -X POST -H 'content-type: application/json' -d '{"a":1,"b":2}' 'http://127.0.0.1:3000/add?wait=1'
 *   curl -s -X POST -H 'content-type: application/json' -d '{"succeedOnAttempt":2}' 'http://127.0.0.1:3000/tasks/flaky?wait=1'
 *
 * Settings: PORT (default 3000, 0 = any free port), FW_SERVER (default 127.0.0.1:50051).
 */
import express from "express";
import type { AddressInfo } from "node:net";
import { taskRef } from "fastworker";
import { fastworker } from "fastworker/express";
import type { add } from "./tasks.js";

const addTask = taskRef<typeof add>("add");

const app = express();
app.use(express.json());
const fw = fastworker(); // FW_SERVER / FW_TOKEN, or pass { server, token }
app.use(fw);

// Submits "add"; answers the task id at once, or the sum with ?wait=1.
app.post("/add", async (req, res) => {
  const { a, b } = req.body as { a: number; b: number };
  const handle = await req.fastworker.submit(addTask, { a, b });
  if (req.query.wait === undefined) {
    res.status(202).json({ id: handle.id });
    return;
  }
  res.json({ id: handle.id, sum: await handle.result({ timeoutMs: 30_000 }) });
});

// Submits any task by name with the JSON body as its args (e.g. POST /tasks/flaky {"succeedOnAttempt":2}).
app.post("/tasks/:name", async (req, res) => {
  const handle = await req.fastworker.submit(req.params.name, req.body ?? null);
  if (req.query.wait === undefined) {
    res.status(202).json({ id: handle.id });
    return;
  }
  res.json({ id: handle.id, result: await handle.result({ timeoutMs: 30_000 }) });
});

const server = fw.closeWith(
  app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    console.log(`express-app listening http://127.0.0.1:${port}`);
  }),
);

// Stop taking requests; the client closes with the server, then the process exits.
process.once("SIGTERM", () => server.close());
process.once("SIGINT", () => server.close());
