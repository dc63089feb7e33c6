/**
 * A Fastify app that hands work to fastworker. With tracing on (see
 * examples/telemetry.mjs), one trace shows the request, the submission, the
 * time in the queue and the execution on a worker.
 *
 *   npx fw-server --tasks examples/tasks.ts                 # in one terminal
 *   node --import tsx --import ./examples/telemetry.mjs examples/fastify-app.ts
 *   curl -s -X POST -H 'content-type: application/json' -d '{"a":1,"b":2}' 'http://127.0.0.1:3000/add?wait=1'
 *   curl -s -X POST -H 'content-type: application/json' -d '{"succeedOnAttempt":2}' 'http://127.0.0.1:3000/tasks/flaky?wait=1'
 *
 * Settings: PORT (default 3000, 0 = any free port), FW_SERVER (default 127.0.0.1:50051).
 */
import Fastify from "fastify";
import { taskRef } from "fastworker";
import { fastworker } from "fastworker/fastify";
import type { add } from "./tasks.js";

const addTask = taskRef<typeof add>("add");

const app = Fastify();
await app.register(fastworker); // FW_SERVER / FW_TOKEN, or pass { server, token }

// Submits "add"; answers the task id at once, or the sum with ?wait=1.
app.post<{ Body: { a: number; b: number }; Querystring: { wait?: string } }>("/add", async (request, reply) => {
  const { a, b } = request.body;
  const handle = await request.fastworker.submit(addTask, { a, b });
  if (request.query.wait === undefined) return reply.code(202).send({ id: handle.id });
  return { id: handle.id, sum: await handle.result({ timeoutMs: 30_000 }) };
});

// Submits any task by name with the JSON body as its args (e.g. POST /tasks/flaky {"succeedOnAttempt":2}).
app.post<{ Params: { name: string }; Querystring: { wait?: string } }>("/tasks/:name", async (request, reply) => {
  const handle = await request.fastworker.submit(request.params.name, request.body ?? null);
  if (request.query.wait === undefined) return reply.code(202).send({ id: handle.id });
  return { id: handle.id, result: await handle.result({ timeoutMs: 30_000 }) };
});

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" });
console.log(`fastify-app listening ${address}`);

// Stop taking requests and close the client (onClose), then the process exits.
const close = (): void => void app.close();
process.once("SIGTERM", close);
process.once("SIGINT", close);
