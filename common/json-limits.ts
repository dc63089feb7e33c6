/**
 * The deepest nesting of arrays and objects accepted in args and results
 * (`[[1]]` is 2 deep).
 *
 * Why 32: args and results are shown as `google.protobuf.Value`s (GetTask,
 * WaitTask, ListTasks with the FULL view, the dashboard), and protobuf
 * decoders stop at 100 nested messages. Every JSON level is two messages
 * there (a Value holding a ListValue or Struct), so a Task inside a response
 * cannot be decoded past 48 levels: a task accepted deeper than that could
 * be stored but never read back. 32 leaves room for the messages around it.
 */
export const MAX_JSON_DEPTH = 32;

/** Fewer characters than this cannot nest deeper than the limit (each level takes an opening and a closing bracket). */
const SHORTEST_TOO_DEEP = 2 * (MAX_JSON_DEPTH + 1);

/**
 * Text that may hold a number too large for a double: an exponent of three
 * or more digits, or a run of 20 digits (a double overflows past 309). Any
 * other number parses to a finite value. It may also match inside a string:
 * the scan then decides. (Spelled out, `\d` twenty times: V8 runs that far
 * faster than `\d{20}`.)
 */
const MAYBE_HUGE = new RegExp(`[eE]\\+?\\d\\d\\d|${"\\d".repeat(20)}`);

/**
 * What keeps a JSON text from being stored as args or a result, as a noun
 * phrase ("the args have …"), or undefined when nothing does: arrays or
 * objects nested deeper than {@link MAX_JSON_DEPTH}, or a number JSON.parse
 * would read as ±Infinity (e.g. `1e999`), which no JSON encoder can write
 * back. `text` must already be valid JSON.
 *
 * Cheap on the submission path (bench/experiments/json-limits.mjs): text
 * with at most 32 opening brackets cannot be too deep, and text without a
 * three-digit exponent or 20 digits in a row cannot hold a huge number, so
 * typical args are decided by native string searches; only the rest is
 * scanned.
 */
export function jsonLimitProblem(text: string): string | undefined {
  if (MAYBE_HUGE.test(text)) return scan(text, true);
  if (text.length < SHORTEST_TOO_DEEP || !moreOpeningBrackets(text, MAX_JSON_DEPTH)) return undefined;
  return depthScan(text);
}

/** Whether the text holds more than `limit` of `[` and `{` (in strings too: it only decides whether to look closer). */
function moreOpeningBrackets(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of ["[", "{"]) {
    for (let i = text.indexOf(bracket); i >= 0; i = text.indexOf(bracket, i + 1)) if (++count > limit) return true;
  }
  return false;
}

const STRUCTURE = /["[\]{}]/g;

/** The deepest nesting, jumping from one quote or bracket to the next. */
function depthScan(text: string): string | undefined {
  let depth = 0;
  const re = new RegExp(STRUCTURE);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const c = text.charCodeAt(m.index);
    if (c === 0x22 /* " */) re.lastIndex = stringEnd(text, m.index) + 1;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MAX_JSON_DEPTH) return tooDeep();
    } else depth--;
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `open`. */
function stringEnd(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c /* \ */) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return text.length;
}

function tooDeep(): string {
  return `arrays or objects nested more than ${MAX_JSON_DEPTH} levels deep (the limit)`;
}

/** One pass over every character outside strings: bracket depth and every number's value (text that may hold a huge number). */
function scan(text: string, checkNumbers: boolean): string | undefined {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i);
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MAX_JSON_DEPTH) return tooDeep();
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    } else if (checkNumbers && (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39))) {
      let end = i + 1;
      while (end < n && isNumberChar(text.charCodeAt(end))) end++;
      const token = text.slice(i, end);
      if (!Number.isFinite(Number(token))) {
        const shown = token.length > 24 ? `${token.slice(0, 20)}…` : token;
        return `the number ${shown}, too large for a double (it reads as ${token.startsWith("-") ? "-" : ""}Infinity, which JSON cannot hold)`;
      }
      i = end - 1;
    }
  }
  return undefined;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */ || c === 0x2b /* + */ || c === 0x2d /* - */;
}
