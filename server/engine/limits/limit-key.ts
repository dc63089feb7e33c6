import type { TaskRecord } from "../../store/task-record.js";

/** Where a keyed limit finds a task's key: a JSON pointer into its args, or a metadata entry. */
export type KeySource = { readonly from: "args"; readonly pointer: string; readonly path: readonly string[] } | { readonly from: "metadata"; readonly name: string };

/**
 * Parses a limit key: `args:/customer/id` (an RFC 6901 JSON pointer into the
 * args) or `metadata:tenant` (a metadata entry). Throws an Error saying what
 * is accepted.
 */
export function parseKeySource(text: string): KeySource {
  if (text.startsWith("args:")) {
    const pointer = text.slice("args:".length);
    if (!pointer.startsWith("/")) throw new Error(`limit key ${JSON.stringify(text)}: after "args:" comes a JSON pointer starting with "/", e.g. args:/customer/id`);
    if (/~[^01]|~$/.test(pointer)) throw new Error(`limit key ${JSON.stringify(text)}: "~" in a JSON pointer must be "~0" or "~1"`);
    const path = pointer.slice(1).split("/").map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
    return { from: "args", pointer, path };
  }
  if (text.startsWith("metadata:") && text.length > "metadata:".length) return { from: "metadata", name: text.slice("metadata:".length) };
  throw new Error(`limit key ${JSON.stringify(text)} is neither args:/json/pointer nor metadata:NAME`);
}

/** The text form of a key source (as parsed). */
export function keySourceText(source: KeySource): string {
  return source.from === "args" ? `args:${source.pointer}` : `metadata:${source.name}`;
}

/**
 * A task's key value: strings as they are, other JSON values as JSON text;
 * "" when the args or metadata do not have it (those tasks share one lane).
 */
export function keyValue(source: KeySource, task: TaskRecord): string {
  if (source.from === "metadata") return task.options.metadata?.[source.name] ?? "";
  let value: unknown;
  try {
    value = JSON.parse(task.argsJson);
  } catch {
    return "";
  }
  for (const part of source.path) {
    if (value === null || typeof value !== "object") return "";
    if (!Object.hasOwn(value, part) || (Array.isArray(value) && !/^(0|[1-9]\d*)$/.test(part))) return "";
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
