/** The one name of every other benchmark (noop-tasks.mjs, bullmq-worker.mjs). */
export declare const BASE_TASK_NAME: "noop";
/** `count` distinct task names: "noop" alone for 1, else "noop-0" … "noop-<count-1>". */
export declare function taskNames(count: number): string[];
