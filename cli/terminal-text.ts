/**
 * Text from workers and submitters (task names, error messages, progress,
 * worker names and hosts, results) made safe to print on a terminal: a
 * worker that returns `\x1b]0;…\x07` or `\x1b[2J` must not retitle, clear or
 * rewrite the operator's screen, nor fake lines of `fw` output. Escape
 * sequences (CSI, OSC, DCS and the other string commands, 7- and 8-bit)
 * are removed whole, then every C0 and C1 control character and DEL. The
 * `--json` output stays exact JSON: control characters are escaped there.
 */

// 7-bit: ESC [ … final, ESC ] … BEL/ST, ESC P|X|^|_ … ST, ESC + one byte. 8-bit: CSI (0x9b) … final, OSC/DCS/… (0x90, 0x98, 0x9d–0x9f) … BEL/ST.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\s\S]?|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x98\x9d-\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;

/** For one-line fields (table cells, names, messages): line breaks and tabs become spaces, other controls go. */
export function safeLine(text: string): string {
  return text.replace(ESCAPES, "").replace(/[\r\n\t]+/g, " ").replace(CONTROLS, "");
}

/** For text printed as it is over several lines (a string result): newlines stay, other controls go. */
export function safeText(text: string): string {
  return text.replace(ESCAPES, "").replace(/\r\n/g, "\n").replace(CONTROLS_BUT_NEWLINE, "");
}

/**
 * JSON text with C1 controls and DEL escaped too (JSON.stringify escapes
 * only C0): the same JSON value, harmless on a terminal.
 */
export function safeJson(json: string): string {
  // eslint-disable-next-line no-control-regex
  return json.replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
