import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { ROOT, run } from "./processes.js";

/** Certificates made for one test: a CA, the control plane's certificate, a client certificate, and a rogue one. */
export interface TestPki {
  dir: string;
  /** Paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A self-signed client certificate no CA of ours signed. */
  rogueCert: string;
  rogueKey: string;
  /** The CA certificate's PEM text. */
  ca: Buffer;
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * The openssl commands of docs/security.md ("Deploying across machines with
 * TLS"), run word for word in a fresh directory (removed after the test),
 * with the example name and address replaced by localhost and 127.0.0.1.
 * So the documented commands are the tested ones; nothing is committed.
 */
export async function makePki(): Promise<TestPki> {
  const doc = readFileSync(join(ROOT, "docs", "security.md"), "utf8");
  const block = /<!-- pki:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- pki:end -->/.exec(doc)?.[1];
  if (block === undefined) throw new Error("docs/security.md has no <!-- pki:begin --> sh block");
  const script = block.replace(/^SERVER_NAME=.*$/m, "SERVER_NAME=localhost").replace(/^SERVER_IP=.*$/m, "SERVER_IP=127.0.0.1");
  const dir = mkdtempSync(join(tmpdir(), "fw-pki-"));
  made.push(dir);
  const rogue = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=rogue -keyout rogue.key -out rogue.crt";
  const result = await run("bash", ["-euo", "pipefail", "-c", `cd '${dir}' && ${script}\n${rogue}`]);
  if (result.code !== 0) throw new Error(`the openssl commands of docs/security.md failed:\n${result.stderr}`);
  const at = (name: string): string => join(dir, name);
  return {
    dir,
    caCert: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    clientCert: at("worker-1.crt"),
    clientKey: at("worker-1.key"),
    rogueCert: at("rogue.crt"),
    rogueKey: at("rogue.key"),
    ca: readFileSync(at("ca.crt")),
  };
}
