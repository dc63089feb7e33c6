import { existsSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isTaskDefinition, type TaskDefinition } from "./task.js";

const TS_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".tsx"]);
let tsxRegistered = false;
const modulePaths = new WeakMap<TaskDefinition, string>();

/** The absolute path of the module a definition was loaded from (threads import it again). */
export function taskModuleOf(definition: TaskDefinition): string | undefined {
  return modulePaths.get(definition);
}

/** A task module that cannot be used, with what to do about it. */
export class TaskModuleError extends Error {
  override readonly name = "TaskModuleError";
}

/**
 * Imports task modules (.js, .mjs, or .ts through tsx) and collects the task
 * definitions they export. Fails with a TaskModuleError naming the module when
 * one is missing, throws while loading, exports no tasks, or two modules
 * define the same task name.
 */
export async function loadTaskModules(paths: readonly string[], cwd = process.cwd()): Promise<Map<string, TaskDefinition>> {
  if (paths.length === 0) throw new TaskModuleError("no task modules given: pass --tasks path/to/tasks.ts (repeatable)");
  const tasks = new Map<string, TaskDefinition>();
  const origin = new Map<string, string>();
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    if (!existsSync(absolute)) throw new TaskModuleError(`task module ${path} not found (looked at ${absolute})`);
    if (TS_EXTENSIONS.has(extname(absolute)) && !tsxRegistered) {
      const { register } = await import("tsx/esm/api");
      register();
      tsxRegistered = true;
    }
    let exported: Record<string, unknown>;
    try {
      exported = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new TaskModuleError(`task module ${path} failed to load: ${reason}`, { cause: err });
    }
    let found = 0;
    for (const value of Object.values(exported)) {
      for (const definition of Array.isArray(value) ? value : [value]) {
        if (!isTaskDefinition(definition)) continue;
        const previous = origin.get(definition.name);
        if (previous !== undefined && tasks.get(definition.name) !== definition) {
          throw new TaskModuleError(`task "${definition.name}" is defined twice (in ${previous} and ${path}); task names must be unique`);
        }
        tasks.set(definition.name, definition);
        origin.set(definition.name, path);
        modulePaths.set(definition, absolute);
        found++;
      }
    }
    if (found === 0) {
      throw new TaskModuleError(
        `task module ${path} exports no tasks: export definitions made with task() from "fastworker", e.g. export const add = task("add", ({ a, b }) => a + b)`,
      );
    }
  }
  return tasks;
}
