import type { Random } from "../helpers/random.js";

/**
 * One to four random edits of a byte string, the kinds that break decoders:
 * bit flips, replaced, inserted and deleted bytes, a cut, a duplicated chunk,
 * a varint made long.
 */
export function mutateBytes(rand: Random, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  for (let edits = rand.int(1, 4); edits > 0; edits--) {
    const at = bytes.length === 0 ? 0 : rand.int(0, bytes.length - 1);
    switch (rand.int(0, 6)) {
      case 0:
        if (bytes.length > 0) bytes[at] = bytes[at]! ^ (1 << rand.int(0, 7));
        break;
      case 1:
        if (bytes.length > 0) bytes[at] = rand.int(0, 255);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), rand.bytes(rand.int(1, 8)), bytes.subarray(at)]);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rand.int(1, 8)))]);
        break;
      case 4:
        bytes = bytes.subarray(0, at);
        break;
      case 5: {
        const end = Math.min(bytes.length, at + rand.int(1, 32));
        bytes = Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
        break;
      }
      default:
        // A length or varint that claims far more than is there.
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), bytes.subarray(at)]);
    }
  }
  return bytes;
}

/** Random edits of JSON text: character edits, and values swapped for odd ones (huge, deep, wrong type). */
export function mutateJson(rand: Random, text: string): string {
  let out = text;
  for (let edits = rand.int(1, 3); edits > 0; edits--) {
    const at = out.length === 0 ? 0 : rand.int(0, out.length - 1);
    switch (rand.int(0, 5)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + rand.int(1, 4));
        break;
      case 1:
        out = out.slice(0, at) + rand.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\u0000", "1e999", "-", "null", "\ud800"]) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at);
        break;
      default: {
        // Replace a value after a colon with an odd one.
        const colon = out.indexOf(":", at);
        if (colon < 0) break;
        const end = nextValueEnd(out, colon + 1);
        out = out.slice(0, colon + 1) + oddJsonValue(rand) + out.slice(end);
      }
    }
  }
  return out;
}

function nextValueEnd(text: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) return i;
      depth--;
    } else if (c === "," && depth === 0) return i;
  }
  return text.length;
}

/** A JSON value chosen to be awkward. */
export function oddJsonValue(rand: Random): string {
  switch (rand.int(0, 13)) {
    case 0: return "1e999";
    case 1: return "-1e999";
    case 2: return String(rand.pick([2 ** 53 + 1, -(2 ** 63), 2 ** 64, 1.5, -1, 0, 4294967296, 2147483648]));
    case 3: return JSON.stringify("x".repeat(rand.length(5000)));
    case 4: { const d = rand.int(30, 400); return "[".repeat(d) + "]".repeat(d); }
    case 5: { const d = rand.int(30, 200); return '{"a":'.repeat(d) + "1" + "}".repeat(d); }
    case 6: return "true";
    case 7: return "null";
    case 8: return JSON.stringify(rand.pick(["PRIORITY_CRITICAL", "PRIORITY_URGENT", "TASK_STATE_QUEUED", "1.5s", "-1s", "99999999999s", "", "\u0000", "add", "🦄"]));
    case 9: return "[1,2,3]";
    case 10: return '{"nested":{"x":[1,{"y":null}]}}';
    case 11: return JSON.stringify({ seconds: "99999999999999", nanos: -5 });
    case 12: return JSON.stringify("a".repeat(rand.int(190, 260)));
    default: return String(rand.int(-1000, 100000));
  }
}
