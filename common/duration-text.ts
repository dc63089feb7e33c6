const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/**
 * Parses a duration such as "500ms", "30s", "5m", "1h30m" or "1d" into
 * milliseconds (a number is taken as milliseconds). Throws an Error saying
 * what is accepted.
 */
export function parseDurationText(text: string | number): number {
  if (typeof text === "number") {
    if (!Number.isFinite(text) || text <= 0) throw new Error(`a duration must be a positive number of milliseconds (got ${text})`);
    return text;
  }
  const trimmed = text.trim();
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(trimmed) ? trimmed.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g)! : undefined;
  if (parts === undefined) throw new Error(`${JSON.stringify(text)} is not a duration: use e.g. "30s", "5m", "1h30m", "1d" or "500ms"`);
  let ms = 0;
  for (const part of parts) {
    const [, n, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part)!;
    ms += Number(n) * UNITS[unit!]!;
  }
  if (ms <= 0) throw new Error(`${JSON.stringify(text)} is not a positive duration`);
  return ms;
}

/** Milliseconds as the shortest exact text: 300000 → "5m", 5400000 → "1h30m", 1500 → "1500ms". */
export function formatDurationText(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms;
  let out = "";
  for (const [unit, size] of [["d", 86_400_000], ["h", 3600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || "0s";
}
