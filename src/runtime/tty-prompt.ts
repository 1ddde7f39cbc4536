/**
 * The terminal side of SSH password / keyboard-interactive authentication, like OpenSSH's
 * readpassphrase: the question on the terminal, the answer read from stdin in raw mode
 * with echo off (unless a keyboard-interactive prompt asks for echo), Backspace and
 * Ctrl-U editing, Ctrl-C (cancel and stop, as at any other time) and Ctrl-D on an empty
 * line (cancel). Answers stay in memory only: never logged, never in argv, env or a file.
 * Texts the server chose (keyboard-interactive name, instruction, prompts) are escaped
 * before they reach the terminal.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SshPrompter } from '../transport/ssh.js';
import { escapeLogText } from './log-escape.js';

/** What the prompter needs of stdin (a tty.ReadStream has it). */
export interface PromptInput {
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', cb: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', cb: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PromptOutput {
  write(text: string): unknown;
}

export interface TtyPrompterOptions {
  input?: PromptInput;
  output?: PromptOutput;
  /** Ctrl-C while asking; default: SIGINT to this process (the usual Ctrl-C shutdown). */
  onInterrupt?: () => void;
}

/** Longest answer kept (characters); more is ignored, like a full readpassphrase buffer. */
export const MAX_ANSWER = 1024;

/**
 * A prompter on the process's terminal: stdin (which must be a TTY, the caller checks)
 * for the answers, stderr for the questions. Questions are asked one at a time.
 */
export function ttyPrompter(opts: TtyPrompterOptions = {}): SshPrompter {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  const interrupt = opts.onInterrupt ?? (() => process.kill(process.pid, 'SIGINT'));
  let queue: Promise<unknown> = Promise.resolve();

  const askNow = (question: string, echo: boolean): Promise<string | null> =>
    new Promise((resolve) => {
      output.write(escapeLogText(question));
      const decoder = new StringDecoder('utf8');
      let answer = '';
      const done = (value: string | null) => {
        input.off('data', onData);
        input.setRawMode?.(false);
        input.pause();
        output.write('\n');
        resolve(value);
      };
      const onData = (chunk: Buffer | string) => {
        const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        for (const ch of text) {
          if (ch === '\r' || ch === '\n') return done(answer);
          if (ch === '\x03') {
            done(null);
            interrupt();
            return;
          }
          if (ch === '\x04') {
            if (answer === '') return done(null);
            continue;
          }
          if (ch === '\x7f' || ch === '\b') {
            if (answer.length > 0) {
              answer = [...answer].slice(0, -1).join('');
              if (echo) output.write('\b \b');
            }
            continue;
          }
          if (ch === '\x15') {
            if (echo) output.write('\b \b'.repeat([...answer].length));
            answer = '';
            continue;
          }
          if (ch < ' ') continue; // other control characters (ESC sequences' first byte…)
          if (answer.length >= MAX_ANSWER) continue;
          answer += ch;
          if (echo) output.write(escapeLogText(ch));
        }
      };
      input.setRawMode?.(true);
      input.on('data', onData);
      input.resume();
    });

  return {
    ask(question, echo) {
      const next = queue.then(() => askNow(question, echo));
      queue = next.catch(() => {});
      return next;
    },
    show(text) {
      output.write(`${escapeLogText(text)}\n`);
    },
  };
}
