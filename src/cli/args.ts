/**
 * The command line → command, positionals and options, with messages a user can act on:
 * an unknown command or option gets "did you mean", an option the command does not take
 * or a missing value names the option and points at `--help`, and an option given twice
 * is refused (never "the last one wins": `serve --config` runs as root through sudoers,
 * and a second --config appended by a widened sudoers line must not replace the first).
 * Node's own parseArgs wording never reaches the user.
 */
import { parseArgs } from 'node:util';
import { CliError, ExitCode } from './exit-codes.js';

export const COMMANDS = [
  'up',
  'serve',
  'gateway',
  'check',
  'status',
  'down',
  'version',
  'help',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export const OPTIONS = {
  debug: { type: 'boolean' },
  'log-format': { type: 'string' },
  'state-dir': { type: 'string' },
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  'client-route': { type: 'string', multiple: true },
  session: { type: 'string' },
  peer: { type: 'boolean' },
  server: { type: 'boolean' },
  gateway: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;
type OptionName = keyof typeof OPTIONS;

/** Options every command takes. */
const GLOBAL_OPTIONS: readonly OptionName[] = ['debug', 'log-format', 'help'];
/**
 * Options of one command, besides the global ones. `serve` has no --state-dir: its
 * state-dir is in server.yaml, which the sudoers line fixes.
 */
const COMMAND_OPTIONS: Record<CommandName, readonly OptionName[]> = {
  up: ['state-dir'],
  serve: ['config', 'client-route'],
  gateway: ['config', 'state-dir'],
  check: ['peer', 'server', 'gateway', 'state-dir'],
  status: ['json', 'state-dir'],
  down: ['state-dir', 'session'],
  version: ['state-dir'],
  help: [],
};

/** What an option's value looks like, for "needs a value" messages. */
const VALUE_HINT: Partial<Record<OptionName, string>> = {
  'log-format': 'text or json',
  'state-dir': 'a directory',
  config: 'a server.yaml',
  'client-route': 'a prefix like 192.168.100.0/24',
  session: 'a gateway session id like s12',
};

export interface ParsedArgs {
  command: string | undefined;
  rest: string[];
  values: {
    debug?: boolean;
    'log-format'?: string;
    'state-dir'?: string;
    config?: string;
    json?: boolean;
    'client-route'?: string[];
    session?: string;
    peer?: boolean;
    server?: boolean;
    gateway?: boolean;
    help?: boolean;
    version?: boolean;
  };
}

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string
 * alignment), for "did you mean": `dwon` is one edit from `down`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate, when it is close enough to be a typo (or `word` is a prefix of it). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function usage(message: string): CliError {
  return new CliError(message, ExitCode.CONFIG, 'USAGE');
}

/** Printable form of something the user typed (quoted, control characters escaped). */
function shown(text: string): string {
  return JSON.stringify(text);
}

function helpRef(command: string | undefined): string {
  return command && (COMMANDS as readonly string[]).includes(command)
    ? `ts-vpn ${command} --help`
    : 'ts-vpn --help';
}

/** Parses argv; throws CliError (exit 2) with a message naming the option and the fix. */
export function parseCommandLine(argv: string[]): ParsedArgs {
  const { tokens } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const command = tokens.find((t) => t.kind === 'positional')?.value;
  const known = (COMMANDS as readonly string[]).includes(command ?? '');
  if (command !== undefined && !known) {
    const guess = closest(command, COMMANDS);
    throw usage(
      `unknown command ${shown(command)}${guess ? `; did you mean "${guess}"?` : ''} (commands: ${COMMANDS.join(', ')}; see "ts-vpn --help")`,
    );
  }
  const allowed = new Set<string>([
    ...GLOBAL_OPTIONS,
    ...(command ? COMMAND_OPTIONS[command as CommandName] : []),
    // `ts-vpn --version` / `ts-vpn --help` without a command.
    ...(command === undefined || command === 'version' ? ['version', 'state-dir'] : []),
    // `ts-vpn help check --json` is still help.
    ...(command === 'help' ? Object.keys(OPTIONS) : []),
  ]);
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = OPTIONS[t.name as OptionName] as
      | { type: 'string' | 'boolean'; multiple?: boolean }
      | undefined;
    if (!spec) {
      const guess = closest(t.name, Object.keys(OPTIONS));
      throw usage(
        `unknown option ${t.rawName}${guess ? `; did you mean --${guess}?` : ''} (see "${helpRef(command)}")`,
      );
    }
    const name = `--${t.name}`;
    if (!allowed.has(t.name)) {
      const owners = (Object.keys(COMMAND_OPTIONS) as CommandName[]).filter((c) =>
        COMMAND_OPTIONS[c].includes(t.name as OptionName),
      );
      throw usage(
        `${command ? `${command} does not take ${name}` : `${name} needs a command`}${owners.length ? ` (it is an option of ${owners.map((c) => `"ts-vpn ${c}"`).join(', ')})` : ''}; see "${helpRef(command)}"`,
      );
    }
    if (spec.type === 'boolean' && t.inlineValue)
      throw usage(`${name} takes no value (see "${helpRef(command)}")`);
    if (
      spec.type === 'string' &&
      (t.value === undefined || (!t.inlineValue && /^-/.test(t.value)))
    ) {
      const hint = VALUE_HINT[t.name as OptionName];
      throw usage(
        `${name} needs a value${hint ? ` (${hint})` : ''}, as in ${name} VALUE (see "${helpRef(command)}")`,
      );
    }
    if (!spec.multiple && seen.has(t.name))
      throw usage(`${name} is given more than once; give it once (see "${helpRef(command)}")`);
    seen.add(t.name);
  }
  let parsed: ReturnType<typeof strictParse>;
  try {
    parsed = strictParse(argv);
  } catch {
    // Everything parseArgs refuses is caught above; this is a last resort without its wording.
    throw usage(`cannot read the command line (see "${helpRef(command)}")`);
  }
  const positionals = parsed.positionals;
  return {
    command: positionals[0],
    rest: positionals.slice(1),
    values: parsed.values as ParsedArgs['values'],
  };
}

function strictParse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}
