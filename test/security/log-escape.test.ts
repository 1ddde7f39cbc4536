/**
 * Far-end text never reaches the terminal raw (issue 15 item 5): escapeLogText and the
 * text logger escape C0, DEL, C1, ESC sequences, CR, bidi overrides; JSON logs keep the
 * text (JSON.stringify escapes C0 itself). The e2e half is in test/faults/hostile-peer.
 */
import { describe, expect, it } from 'vitest';
import { escapeLogLines, escapeLogText } from '../../src/runtime/log-escape.js';
import { Logger } from '../../src/runtime/logger.js';

const FORGED = '\r\x1b[2K tunnel up: forged';
/** A raw CR or ESC. */
const hasRaw = (s: string) => s.includes('\r') || s.includes('\u001b');

function capture(format: 'text' | 'json' = 'text'): { log: Logger; lines: () => string } {
  let out = '';
  const log = new Logger({ format, timestamps: false, sink: { write: (l) => (out += l) } });
  return { log, lines: () => out };
}

describe('escapeLogText', () => {
  it('escapes CR, ESC, LF, TAB, NUL, DEL and C1 (8-bit CSI) as \\xNN', () => {
    expect(escapeLogText(FORGED)).toBe('\\x0d\\x1b[2K tunnel up: forged');
    expect(escapeLogText('a\nb\tc\x00d\x7fe\u009b2Kf')).toBe('a\\x0ab\\x09c\\x00d\\x7fe\\x9b2Kf');
  });
  it('escapes line separators and bidi overrides; keeps printable text and backslashes', () => {
    expect(escapeLogText('x\u2028y\u202ez')).toBe('x\\u{2028}y\\u{202e}z');
    expect(escapeLogText('é ü 日本 \\x41 ^M M-a')).toBe('é ü 日本 \\x41 ^M M-a');
  });
  it('escapeLogLines keeps LF only', () => {
    expect(escapeLogLines(`one\ntwo${FORGED}`)).toBe('one\ntwo\\x0d\\x1b[2K tunnel up: forged');
  });
});

describe('Logger (text)', () => {
  it('a message with peer text cannot rewrite the line or the terminal', () => {
    const { log, lines } = capture();
    log.info(`remote: ${FORGED}`);
    log.warn('x', { reason: `a\n${FORGED}` });
    expect(lines()).toBe(
      'remote: \\x0d\\x1b[2K tunnel up: forged\nwarn: x reason=a\\x0a\\x0d\\x1b[2K tunnel up: forged\n',
    );
    expect(hasRaw(lines())).toBe(false);
  });
  it('JSON logs carry the text exactly (escaped by JSON itself)', () => {
    const { log, lines } = capture('json');
    log.info(FORGED);
    expect(JSON.parse(lines()).msg).toBe(FORGED);
    expect(hasRaw(lines())).toBe(false);
  });
});
