import { Code, ConnectError } from "@connectrpc/connect";

export { Code, ConnectError };

/** The message of any thrown value, for logs and one-line CLI errors. */
export function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The lowercase, dashed name of a code as gRPC tools print it, e.g. "not_found". */
export function codeName(code: Code): string {
  return Code[code]
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
}
