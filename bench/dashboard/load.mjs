// Load for bench/dashboard/history-100k.mjs: submits `add` tasks at RATE per second
// for SECONDS to the control plane at argv[2], then exits. Bounded in count and time.
import { Client } from "../../dist/index.js";

const [server, rate = "500", seconds = "20"] = process.argv.slice(2);
const client = new Client({ server });
const perTick = Math.max(1, Math.round(Number(rate) / 10));
const ticks = Number(seconds) * 10;
let sent = 0;
for (let i = 0; i < ticks; i++) {
  const started = Date.now();
  await Promise.all(Array.from({ length: perTick }, (_, k) => client.submit("add", { a: i, b: k })));
  sent += perTick;
  const wait = 100 - (Date.now() - started);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await client.close();
console.log(JSON.stringify({ sent }));
