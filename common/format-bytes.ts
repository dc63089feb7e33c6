/** A size for people: "512 B", "1.5 KiB", "1.05 MiB", "4 MiB" (at most two decimals). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} KiB`;
  return `${trim(bytes / 1024 / 1024)} MiB`;
}

/**
 * An exact size, with the rounded one beside it when that helps: "900
 * bytes", "1,101,004 bytes (1.05 MiB)". For messages that compare a size
 * with a limit: rounded alone, a payload just over 1 MiB read "the args are
 * 1 MiB; the limit is 1 MiB".
 */
export function formatBytesExact(bytes: number): string {
  const exact = `${bytes.toLocaleString("en-US")} bytes`;
  return bytes < 1024 ? exact : `${exact} (${formatBytes(bytes)})`;
}

/**
 * "the args are 1,101,004 bytes (1.05 MiB); the limit is 1,048,576 bytes
 * (1 MiB)": one wording for every size refused against a limit.
 */
export function overLimit(what: string, bytes: number, limit: number): string {
  return `${what} ${formatBytesExact(bytes)}; the limit is ${formatBytesExact(limit)}`;
}

function trim(n: number): string {
  return n.toFixed(2).replace(/\.?0+$/, "");
}
