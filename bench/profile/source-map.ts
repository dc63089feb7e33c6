import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** Decodes one Base64 VLQ segment of a source map into its numbers. */
function decodeSegment(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = DIGIT.get(char);
    if (digit === undefined) break;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** A position in an original source file (1-based line). */
export interface OriginalPosition {
  source: string;
  line: number;
}

/**
 * A parsed source map (version 3, as tsc writes them): maps a generated
 * line/column back to the TypeScript file and line. Just enough to name
 * profile hotspots by their .ts location.
 */
export class SourceMap {
  private readonly lines: { column: number; source: number; line: number }[][] = [];

  private constructor(
    private readonly sources: string[],
    mappings: string,
  ) {
    let source = 0;
    let line = 0;
    for (const text of mappings.split(";")) {
      const segments: { column: number; source: number; line: number }[] = [];
      let column = 0;
      for (const seg of text.split(",")) {
        if (seg === "") continue;
        const f = decodeSegment(seg);
        column += f[0] ?? 0;
        if (f.length >= 4) {
          source += f[1]!;
          line += f[2]!;
          segments.push({ column, source, line });
        }
      }
      this.lines.push(segments);
    }
  }

  /** The map beside a generated .js file (file.js.map), if there is one. */
  static forFile(jsPath: string): SourceMap | undefined {
    const mapPath = `${jsPath}.map`;
    if (!existsSync(mapPath)) return undefined;
    const raw = JSON.parse(readFileSync(mapPath, "utf8")) as { sources: string[]; sourceRoot?: string; mappings: string };
    const root = resolve(dirname(jsPath), raw.sourceRoot ?? "");
    return new SourceMap(raw.sources.map((s) => resolve(root, s)), raw.mappings);
  }

  /** The original position of a generated 0-based line and column (binary search: a bundle's lines hold thousands of segments). */
  lookup(line: number, column: number): OriginalPosition | undefined {
    const segments = this.lines[line];
    if (segments === undefined || segments.length === 0) return undefined;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid]!.column <= column) lo = mid;
      else hi = mid - 1;
    }
    const best = segments[lo]!;
    return { source: this.sources[best.source]!, line: best.line + 1 };
  }
}
