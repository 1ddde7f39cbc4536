/**
 * Configuration errors: every problem names the YAML field path (kebab-case keys,
 * `routes[1]`, `ssh.identity-files[0]`), what is wrong and, where useful, the fix.
 */
import { CodedError } from '../coded-error.js';

/** One problem in a configuration file. */
export interface ConfigIssue {
  /** YAML path as written by the user, e.g. `ssh.port`, `routes[1]`; '' for the whole file. */
  path: string;
  message: string;
  /** 1-based line in the source file, when known. */
  line?: number;
}

export type PathSegment = string | number;

/** `ssh.identity-files[0]`, `routes[1]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

/** Formats an issue as `peer.yaml:7 ssh.port: expected an integer 1-65535, got 0`. */
export function formatIssue(source: string, issue: ConfigIssue): string {
  const where = issue.line !== undefined ? `${source}:${issue.line}` : source;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** Thrown for any invalid configuration; the CLI exits with `exitCode` (2, "nothing was changed"). */
export class ConfigError extends CodedError<'CONFIG_INVALID'> {
  override readonly name = 'ConfigError';
  readonly exitCode = 2 as const;
  readonly source: string;
  readonly issues: ConfigIssue[];

  constructor(source: string, issues: ConfigIssue[]) {
    super('CONFIG_INVALID', issues.map((i) => formatIssue(source, i)).join('\n'));
    this.source = source;
    this.issues = issues;
  }
}

/**
 * A secret value (password, passphrase): prints as `<hidden>` through String(),
 * JSON.stringify and util.inspect, so a logged config never leaks it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret itself; call only where it is used (PAP/CHAP, key decryption). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '<hidden>';
  }
  toJSON(): string {
    return '<hidden>';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret(<hidden>)';
  }
}
