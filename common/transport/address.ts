/** A control plane's gRPC address, as given, and what it says about TLS. */
export interface ServerAddress {
  /** host:port (brackets around IPv6), what grpc-js dials. */
  readonly target: string;
  /** True for grpcs:// and https:// (TLS); false for a bare host:port, grpc:// and http://. */
  readonly tls: boolean;
  /** As the person wrote it, for messages. */
  readonly text: string;
}

const SCHEMES: Record<string, { tls: boolean; defaultPort: number | undefined }> = {
  "grpcs:": { tls: true, defaultPort: 443 },
  "https:": { tls: true, defaultPort: 443 },
  "grpc:": { tls: false, defaultPort: undefined },
  "http:": { tls: false, defaultPort: 80 },
};

/**
 * Parses a --server / FW_SERVER / `server` option: `host:port` (plaintext,
 * as always), or `grpcs://host:port` / `https://host[:port]` for TLS
 * (`grpc://` and `http://` say plaintext explicitly). Throws one line
 * naming the forms for anything else (a path, a missing port, another scheme).
 */
export function parseServerAddress(text: string): ServerAddress {
  const invalid = (why: string): Error =>
    new Error(`server address ${JSON.stringify(text)} ${why}: use HOST:PORT (plaintext) or grpcs://HOST:PORT (TLS)`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme === null) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(text)) throw invalid("is not valid");
    return { target: text, tls: false, text };
  }
  const kind = SCHEMES[scheme[1]!.toLowerCase() + ":"];
  if (kind === undefined) throw invalid(`has an unknown scheme ${scheme[1]}://`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid("is not valid");
  }
  if (url.hostname === "") throw invalid("has no host");
  if (url.pathname !== "/" && url.pathname !== "") throw invalid("has a path");
  if (url.search || url.hash || url.username || url.password) throw invalid("has more than a host and port");
  const port = url.port === "" ? kind.defaultPort : Number(url.port);
  if (port === undefined) throw invalid("has no port");
  return { target: `${url.hostname}:${port}`, tls: kind.tls, text };
}
