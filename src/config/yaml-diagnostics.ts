/**
 * Turns what the YAML parser reports into messages a person can act on:
 * an unclosed `[`, `{` or quote is reported where it was opened (the parser
 * notices only at the end, often one line past the last); a duplicate key
 * names the key and both lines; a file that is not text (NUL bytes, invalid
 * UTF-8, control characters) says so instead of producing YAML syntax errors.
 */
import {
  type CST,
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  Parser,
} from 'yaml';
import { type ConfigIssue, formatPath, type PathSegment } from './errors.js';

const NOT_TEXT_HINT = 'a configuration is a YAML text file; is this the right file?';

/** 1-based line of a character offset in `text`. */
function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Checks raw file bytes: NUL bytes or invalid UTF-8 mean "not a text file".
 * Returns the decoded text, or the issue.
 */
export function decodeConfigBytes(bytes: Uint8Array): { text: string } | { issue: ConfigIssue } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    let line = 1;
    for (let i = 0; i < nul; i++) if (bytes[i] === 10) line++;
    return {
      issue: {
        path: '',
        line,
        message: `not a text file (a NUL byte at offset ${nul}); ${NOT_TEXT_HINT}`,
      },
    };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text };
  } catch {
    // Find the first bad sequence for the message: decode growing prefixes is too slow;
    // the replacement character marks it in a non-fatal decode.
    const loose = new TextDecoder('utf-8').decode(bytes);
    const bad = loose.indexOf('\ufffd');
    return {
      issue: {
        path: '',
        line: bad >= 0 ? lineAtOffset(loose, bad) : undefined,
        message: `not a text file (invalid UTF-8); ${NOT_TEXT_HINT}`,
      },
    };
  }
}

/**
 * Checks already-decoded text for characters no configuration contains: NUL and
 * other C0 controls (except tab, newline, carriage return), DEL, and U+FFFD (what a
 * lenient decoder leaves of invalid UTF-8). The YAML parser accepts some of these.
 */
export function checkConfigText(text: string): ConfigIssue | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for exactly these
  const m = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/.exec(text);
  if (!m) return null;
  const code = m[0].charCodeAt(0);
  const what =
    code === 0
      ? 'a NUL byte'
      : code === 0xfffd
        ? 'invalid UTF-8'
        : `the control character 0x${code.toString(16).padStart(2, '0')}`;
  return {
    path: '',
    line: lineAtOffset(text, m.index),
    message: `not a text file (${what}); ${NOT_TEXT_HINT}`,
  };
}

// ---------------------------------------------------------------- unclosed brackets and quotes

interface Opened {
  path: PathSegment[];
  offset: number;
  what: string;
}

function keyText(tok: CST.Token | null | undefined): string | null {
  if (!tok) return null;
  if (tok.type === 'scalar') return tok.source;
  if (tok.type === 'single-quoted-scalar' || tok.type === 'double-quoted-scalar')
    return tok.source.slice(1, -1);
  return null;
}

function unterminatedQuote(tok: CST.FlowScalar): boolean {
  const s = tok.source;
  if (tok.type === 'double-quoted-scalar') {
    if (s.length < 2 || !s.endsWith('"')) return true;
    let bs = 0;
    for (let i = s.length - 2; i >= 1 && s[i] === '\\'; i--) bs++;
    return bs % 2 === 1;
  }
  if (tok.type === 'single-quoted-scalar') {
    if (s.length < 2 || !s.endsWith("'")) return true;
    // `''` is an escaped quote: a closing quote is preceded by an even run of quotes.
    let q = 0;
    for (let i = s.length - 1; i >= 1 && s[i] === "'"; i--) q++;
    return q % 2 === 0;
  }
  return false;
}

function walkCst(tok: CST.Token | null | undefined, path: PathSegment[], out: Opened[]): void {
  if (!tok) return;
  switch (tok.type) {
    case 'document':
      walkCst(tok.value, path, out);
      return;
    case 'block-map':
      for (const it of tok.items) {
        const k = keyText(it.key as CST.Token | null);
        walkCst(it.key as CST.Token | null, path, out);
        walkCst(it.value, k === null ? path : [...path, k], out);
      }
      return;
    case 'block-seq':
      tok.items.forEach((it, i) => {
        walkCst(it.value, [...path, i], out);
      });
      return;
    case 'flow-collection': {
      const seq = tok.start.source === '[';
      const closer = seq ? ']' : '}';
      if (!tok.end.some((t) => t.source === closer))
        out.push({
          path,
          offset: tok.start.offset,
          what: `the ${seq ? 'list' : 'mapping'} opened with "${tok.start.source}" here is never closed; add "${closer}" after its last ${seq ? 'item' : 'entry'}`,
        });
      tok.items.forEach((it, i) => {
        const k = seq ? i : keyText(it.key as CST.Token | null);
        walkCst(it.key as CST.Token | null, path, out);
        walkCst(it.value, k === null ? path : [...path, k], out);
      });
      return;
    }
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
      if (unterminatedQuote(tok)) {
        const q = tok.type === 'double-quoted-scalar' ? '"' : "'";
        out.push({
          path,
          offset: tok.offset,
          what: `the string opened with ${q} here is never closed; add the closing ${q}`,
        });
      }
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------- duplicate keys

function walkDuplicates(
  node: unknown,
  path: PathSegment[],
  lineOf: (n: Node) => number | undefined,
  out: ConfigIssue[],
): void {
  if (isMap(node)) {
    const seen = new Map<string, number | undefined>();
    for (const p of node.items) {
      if (!isPair(p)) continue;
      const k = isScalar(p.key) ? String(p.key.value) : null;
      if (k !== null) {
        const line = lineOf(p.key as Node);
        if (seen.has(k)) {
          const first = seen.get(k);
          out.push({
            path: formatPath([...path, k]),
            line,
            message: `duplicate key "${k}"${first !== undefined && line !== undefined ? ` on lines ${first} and ${line}` : ''}; YAML allows a key once per mapping: delete one of them`,
          });
        } else seen.set(k, line);
      }
      walkDuplicates(p.value, k === null ? path : [...path, k], lineOf, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      walkDuplicates(item, [...path, i], lineOf, out);
    });
  }
}

/**
 * The issues for a document that has parse errors. Unclosed brackets and quotes
 * are reported at their opening line with the field they belong to; duplicate keys
 * with both lines; anything else with the parser's message, its line clamped to the
 * file (the parser may point one line past the end).
 */
export function yamlErrorIssues(doc: Document, text: string, lc: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const lastLine = Math.max(1, text.replace(/\n+$/, '').split('\n').length);

  const opened: Opened[] = [];
  for (const tok of new Parser().parse(text)) walkCst(tok, [], opened);
  for (const o of opened)
    issues.push({
      path: formatPath(o.path),
      line: lc.linePos(o.offset).line,
      message: `YAML syntax error: ${o.what}`,
    });

  const dupErrors = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
  if (dupErrors.length > 0) {
    const dups: ConfigIssue[] = [];
    walkDuplicates(
      doc.contents,
      [],
      (n) => (n.range ? lc.linePos(n.range[0]).line : undefined),
      dups,
    );
    issues.push(...dups);
    if (dups.length === 0)
      for (const e of dupErrors)
        issues.push({
          path: '',
          line: e.linePos?.[0].line,
          message: 'YAML syntax error: a key is repeated in the same mapping; keep one of them',
        });
  }

  // The rest, unless an unclosed bracket or quote explains them (it makes the
  // parser report errors at or after the place it was opened).
  const firstOpen = opened.length ? Math.min(...opened.map((o) => o.offset)) : Infinity;
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') continue;
    if (e.pos[0] >= firstOpen) continue;
    const line = e.linePos?.[0].line;
    issues.push({
      path: '',
      line: line !== undefined ? Math.min(line, lastLine) : undefined,
      message: `YAML syntax error: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
    });
  }
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return issues;
}
