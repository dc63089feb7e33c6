import { TaskView } from "../../gen/fastworker/v1/task_pb.js";
import type { Logger } from "../../common/logger.js";
import type { ControlPlane } from "../engine/control-plane.js";
import type { Loop } from "../loops/interval-loop.js";
import { StatsHistory } from "./stats-history.js";
import { TaskFeed } from "./task-feed.js";
import { taskMessage } from "../engine/task-view.js";

/**
 * What the live dashboard streams from, owned as one loop: the per-second
 * stats history (always sampled, so charts have the last ten minutes) and
 * the task feed (active only while a WatchTasks stream is open).
 * closeStreams() ends every watch stream at shutdown so the HTTP port can
 * close without waiting out its grace period.
 */
export class DashboardFeeds implements Loop {
  readonly history: StatsHistory;
  readonly tasks: TaskFeed;
  private readonly closing = new AbortController();

  constructor(plane: ControlPlane, logger: Logger) {
    this.history = new StatsHistory(plane, logger);
    this.tasks = new TaskFeed({
      events: plane.events,
      describe: (task, now) => taskMessage(task, TaskView.BASIC, plane, now),
      logger,
    });
  }

  /** Aborts at shutdown; watch streams end with it. */
  get closed(): AbortSignal {
    return this.closing.signal;
  }

  start(): void {
    this.history.start();
    this.tasks.start();
  }

  stop(): void {
    this.tasks.stop();
    this.history.stop();
  }

  /** Ends every WatchStats and WatchTasks stream (shutdown). */
  closeStreams(): void {
    this.closing.abort();
    this.tasks.stop();
  }
}
