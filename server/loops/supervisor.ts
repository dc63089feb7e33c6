import type { Loop } from "./interval-loop.js";

/**
 * Starts the control plane's loops in order and stops them in reverse, so a
 * loop never runs while something it depends on is stopped.
 */
export class Supervisor implements Loop {
  private readonly loops: { name: string; loop: Loop }[] = [];
  private started = false;

  add(name: string, loop: Loop): this {
    this.loops.push({ name, loop });
    if (this.started) loop.start();
    return this;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const { loop } of this.loops) loop.start();
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const { loop } of [...this.loops].reverse()) loop.stop();
  }

  /** Names of the loops, in start order. */
  names(): string[] {
    return this.loops.map((l) => l.name);
  }
}
