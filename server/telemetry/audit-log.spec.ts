import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLogs } from "../../test/helpers/captured-logs.js";
import { AuditLog } from "./audit-log.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("AuditLog", () => {
  it("marks every line as an audit line", () => {
    const logs = captureLogs();
    new AuditLog(logs.logger).log("info", { peer: "127.0.0.1:1" }, "worker registered");
    expect(logs.lines).toMatchObject([{ level: "info", audit: true, peer: "127.0.0.1:1", msg: "worker registered" }]);
  });

  it("logs a flood of one kind as a burst, then one line counting the rest when the window ends", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const logs = captureLogs();
    const audit = new AuditLog(logs.logger, { burst: 3, windowMs: 1000 });
    for (let i = 0; i < 1000; i++) audit.limited("auth-failure", "warn", { peer: `p${i}` }, "refused", 5000);
    audit.limited("other", "info", {}, "another kind has its own budget", 5000);
    expect(logs.lines.map((l) => l.msg)).toEqual(["refused", "refused", "refused", "another kind has its own budget"]);
    vi.advanceTimersByTime(1000);
    expect(logs.lines.at(-1)).toMatchObject({ level: "warn", kind: "auth-failure", suppressed: 997, latest: { peer: "p999" } });
    // A new window starts afresh.
    audit.limited("auth-failure", "warn", {}, "refused again", 7000);
    expect(logs.lines.at(-1)?.msg).toBe("refused again");
    audit.close();
  });

  it("counts what was left out when the next window starts before the timer fired, and on close", () => {
    const logs = captureLogs();
    const audit = new AuditLog(logs.logger, { burst: 1, windowMs: 1000 });
    audit.limited("k", "warn", {}, "one", 0);
    audit.limited("k", "warn", { n: 2 }, "two", 10);
    audit.limited("k", "warn", {}, "three", 2000);
    expect(logs.lines.map((l) => [l.msg.slice(0, 6), l.suppressed])).toEqual([["one", undefined], ["1 more", 1], ["three", undefined]]);
    audit.limited("k", "warn", {}, "four", 2001);
    audit.close();
    expect(logs.lines.at(-1)).toMatchObject({ suppressed: 1 });
  });
});
