/**
 * The terminal prompter (runtime/tty-prompt.ts) with a scripted stdin: raw mode on while
 * asking and off after, no echo of hidden answers, editing keys, cancel keys, escaping of
 * the server's texts, one question at a time.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MAX_ANSWER, ttyPrompter } from '../../src/runtime/tty-prompt.js';

class FakeTty extends EventEmitter {
  raw: boolean[] = [];
  setRawMode(on: boolean) {
    this.raw.push(on);
  }
  resume() {}
  pause() {}
  /** Types once the prompter listens (it asks on a later microtask, one question at a time). */
  async type(text: string) {
    for (let i = 0; i < 5 && this.listenerCount('data') === 0; i++)
      await new Promise((r) => setImmediate(r));
    expect(this.listenerCount('data')).toBe(1);
    this.emit('data', Buffer.from(text, 'utf8'));
  }
}

function setup() {
  const input = new FakeTty();
  let out = '';
  let interrupts = 0;
  const p = ttyPrompter({
    input,
    output: { write: (t: string) => (out += t) },
    onInterrupt: () => interrupts++,
  });
  return { input, p, out: () => out, interrupts: () => interrupts };
}

describe('ttyPrompter', () => {
  it('reads a hidden answer in raw mode without echoing it, then restores the terminal', async () => {
    const { input, p, out } = setup();
    const a = p.ask("bob@gw's password: ", false);
    await input.type('sec');
    await input.type('ret\r');
    expect(await a).toBe('secret');
    expect(out()).toBe("bob@gw's password: \n");
    expect(input.raw).toEqual([true, false]);
    expect(input.listenerCount('data')).toBe(0);
  });

  it('echoes an answer only when the prompt asks for echo', async () => {
    const { input, p, out } = setup();
    const a = p.ask('Code: ', true);
    await input.type('42\n');
    expect(await a).toBe('42');
    expect(out()).toBe('Code: 42\n');
  });

  it('Backspace removes the last character, Ctrl-U the whole line, other controls are ignored', async () => {
    const { input, p } = setup();
    const a = p.ask('Password: ', false);
    await input.type('wrong\x15pass\x7f\x7fss\x1b[Aw\x08word\r');
    // \x15 clears "wrong"; "pass" minus 2 = "pa"; + "ss" = "pass"; ESC dropped, "[A" kept;
    // "w" then \b removes it; + "word".
    expect(await a).toBe('pass[Aword');
  });

  it('Ctrl-D on an empty line cancels (null); Ctrl-C cancels and interrupts', async () => {
    const { input, p, interrupts } = setup();
    const a = p.ask('Password: ', false);
    await input.type('\x04');
    expect(await a).toBeNull();
    const b = p.ask('Password: ', false);
    await input.type('abc\x03');
    expect(await b).toBeNull();
    expect(interrupts()).toBe(1);
  });

  it('escapes what the server chose (name, instruction, prompt) before the terminal sees it', async () => {
    const { input, p, out } = setup();
    p.show('Two factors\x1b[2J');
    const a = p.ask('Code\r\x1b]0;owned\x07: ', true);
    await input.type('1\r');
    await a;
    expect(out()).toContain('Two factors\\x1b[2J\n');
    expect(out()).toContain('Code\\x0d\\x1b]0;owned\\x07: ');
    expect(out()).not.toContain('\x1b');
  });

  it('asks one question at a time, in order', async () => {
    const { input, p, out } = setup();
    const a = p.ask('First: ', true);
    const b = p.ask('Second: ', true);
    await Promise.resolve();
    expect(out()).toBe('First: ');
    await input.type('1\r');
    expect(await a).toBe('1');
    await new Promise((r) => setImmediate(r));
    expect(out()).toBe('First: 1\nSecond: ');
    await input.type('2\r');
    expect(await b).toBe('2');
  });

  it(`keeps at most ${MAX_ANSWER} characters`, async () => {
    const { input, p } = setup();
    const a = p.ask('Password: ', false);
    await input.type(`${'x'.repeat(MAX_ANSWER + 50)}\r`);
    expect((await a)?.length).toBe(MAX_ANSWER);
  });
});
