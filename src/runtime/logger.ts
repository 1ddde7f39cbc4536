/**
 * Logging for the runtime and CLI: human-readable lines by default, one JSON
 * object per line with `--log-format json`. Debug lines (pppd-style packet logs)
 * are emitted only while debug is on; SIGUSR1 toggles it at run time.
 *
 * Text mode escapes every control character but LF (src/runtime/log-escape.ts) in the
 * message and every control character in field values; peer text is escaped where it
 * enters (escapeLogText), so a far end cannot forge a line or drive the terminal.
 *
 * Secrets never reach this module: callers log descriptions, never config values
 * of password/passphrase fields.
 */
import { escapeLogLines, escapeLogText } from './log-escape.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  format?: LogFormat;
  debug?: boolean;
  /** Defaults to process.stderr. */
  sink?: LogSink;
  /** Prefix fields added to every record, e.g. the tunnel name. */
  fields?: Record<string, unknown>;
  /** Include timestamps in text mode (default true). */
  timestamps?: boolean;
}

export class Logger {
  format: LogFormat;
  debugEnabled: boolean;
  private readonly sink: LogSink;
  private readonly fields: Record<string, unknown>;
  private readonly timestamps: boolean;

  constructor(opts: LoggerOptions = {}) {
    this.format = opts.format ?? 'text';
    this.debugEnabled = opts.debug ?? false;
    this.sink = opts.sink ?? { write: (line) => process.stderr.write(line) };
    this.fields = opts.fields ?? {};
    this.timestamps = opts.timestamps ?? true;
  }

  /** A logger sharing this one's sink and settings, with extra fields (e.g. a session id). */
  child(fields: Record<string, unknown>): Logger {
    const child = new Logger({
      format: this.format,
      debug: this.debugEnabled,
      sink: this.sink,
      fields: { ...this.fields, ...fields },
      timestamps: this.timestamps,
    });
    // Children follow the parent's debug toggle.
    Object.defineProperty(child, 'debugEnabled', {
      get: () => this.debugEnabled,
      set: (v: boolean) => {
        this.debugEnabled = v;
      },
    });
    return child;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    if (this.debugEnabled) this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.emit('error', msg, fields);
  }

  private emit(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    const now = new Date();
    if (this.format === 'json') {
      this.sink.write(
        `${JSON.stringify({ time: now.toISOString(), level, msg, ...this.fields, ...fields })}\n`,
      );
      return;
    }
    const ts = this.timestamps ? `${now.toISOString().slice(11, 23)} ` : '';
    const tag = level === 'info' ? '' : `${level}: `;
    const who = typeof this.fields.session === 'string' ? `[${this.fields.session}] ` : '';
    const extra =
      fields && Object.keys(fields).length > 0
        ? ` ${Object.entries(fields)
            .map(([k, v]) => `${k}=${escapeLogText(typeof v === 'string' ? v : JSON.stringify(v))}`)
            .join(' ')}`
        : '';
    this.sink.write(`${ts}${escapeLogText(who)}${tag}${escapeLogLines(msg)}${extra}\n`);
  }
}
