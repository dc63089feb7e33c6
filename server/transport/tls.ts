import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** PEM files for serving TLS, read once at start. */
export interface TlsFiles {
  /** The certificate chain (leaf first). */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, both ports require a client certificate signed by one of these CAs. */
  readonly clientCa?: Buffer | undefined;
}

/** TLS for startServer, as PEM text or bytes. */
export interface ServerTls {
  /** The certificate chain (leaf first). */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA certificates whose client certificates are required on both ports. */
  clientCa?: string | Buffer | undefined;
}

/** Paths of the TLS files, as the fw-server flags give them. */
export interface TlsPaths {
  cert?: string | undefined;
  key?: string | undefined;
  clientCa?: string | undefined;
}

/**
 * Reads the TLS files (fw-server --tls-cert, --tls-key, --tls-client-ca):
 * both or neither of certificate and key, a client CA only with them.
 * Throws one line naming the flag.
 */
export function readTlsFiles(paths: TlsPaths): ServerTls | undefined {
  if (paths.cert === undefined && paths.key === undefined) {
    if (paths.clientCa !== undefined) throw new Error("--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked only over TLS");
    return undefined;
  }
  if (paths.cert === undefined || paths.key === undefined) {
    throw new Error(`--tls-cert and --tls-key go together; ${paths.cert === undefined ? "--tls-cert" : "--tls-key"} is missing`);
  }
  return {
    cert: read(paths.cert, "--tls-cert"),
    key: read(paths.key, "--tls-key"),
    clientCa: paths.clientCa === undefined ? undefined : read(paths.clientCa, "--tls-client-ca"),
  };
}

/**
 * Checks TLS material before anything listens: PEM certificate and key, the
 * key the certificate's, not expired; a client CA that parses. Throws one
 * line naming the flag.
 */
export function checkTls(tls: ServerTls): TlsFiles & { leaf: X509Certificate } {
  const cert = Buffer.from(tls.cert);
  const key = Buffer.from(tls.key);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`--tls-cert is not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`--tls-key is not a PEM private key, or it is encrypted (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new Error("--tls-key is not the key of the certificate in --tls-cert");
  if (Date.parse(leaf.validTo) < Date.now()) throw new Error(`the certificate in --tls-cert expired on ${leaf.validTo}`);
  let clientCa: Buffer | undefined;
  if (tls.clientCa !== undefined) {
    clientCa = Buffer.from(tls.clientCa);
    try {
      new X509Certificate(clientCa);
    } catch (err) {
      throw new Error(`--tls-client-ca is not a PEM certificate (${(err as Error).message})`);
    }
  }
  return { cert, key, clientCa, leaf };
}

/**
 * A name the certificate carries, for a client that dials `host` but must
 * check the certificate for another name (the embedded worker dials
 * loopback); undefined when the certificate already names `host`.
 */
export function certificateName(leaf: X509Certificate, host: string): string | undefined {
  const names = (leaf.subjectAltName ?? "").split(/,\s*/).filter(Boolean);
  const dns = names.filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4));
  const ips = names.filter((n) => n.startsWith("IP Address:")).map((n) => n.slice(11));
  if (ips.includes(host) || dns.includes(host)) return undefined;
  return dns.find((n) => !n.includes("*")) ?? ips[0] ?? /CN=([^\n,]+)/.exec(leaf.subject)?.[1];
}

function read(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}
