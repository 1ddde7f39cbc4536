/**
 * The one escaping function for text logs. Text the far end chose (its stderr, SSH
 * disconnect messages, anything else not already escaped by the PPP core) must never
 * reach a terminal raw: a carriage return or an ESC sequence could rewrite the line
 * before it ("\r\x1b[2K tunnel up: forged"), a newline could forge a whole log line.
 *
 * Escaped as `\xNN` (`\u{…}` above U+00FF): C0 controls (including CR, LF, TAB, ESC),
 * DEL, C1 controls (U+0080–U+009F, 8-bit CSI among them), the Unicode line and paragraph
 * separators and the bidirectional overrides (which reorder what a reader sees).
 * Printable text, backslashes included, is left alone, so the pppd-style escapes of the
 * PPP core (`^M`, `M-x`, `\xNN`) pass through unchanged.
 */

/** Everything {@link escapeLogText} escapes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters we escape
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The same without LF: for our own multi-line messages (the logger's last line of defence). */
const UNSAFE_BUT_LF =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters we escape
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function hex(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
}

/** `text` with every control character escaped (one line, safe for a terminal). */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, hex);
}

/**
 * `text` with every control character but LF escaped. The logger applies this to every
 * text-mode line, so our own multi-line messages keep their shape and nothing else can
 * move the cursor; peer text must still go through {@link escapeLogText} where it enters.
 */
export function escapeLogLines(text: string): string {
  return text.replace(UNSAFE_BUT_LF, hex);
}
