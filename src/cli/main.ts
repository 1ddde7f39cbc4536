/**
 * `ts-vpn` command line: up, serve, check, status, down, version, help.
 * Signals and process exit live here, never in src/runtime.
 *
 * This is the entry of the CLI bundle (scripts/build.mjs: one CommonJS file,
 * dist/cli/bundle.js), which the bin (src/cli/launcher.cts → dist/cli/main.js) compiles
 * with a V8 code cache and then calls `run()`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// Heavy modules (yaml, zod, ssh2, netlink, koffi) are imported by the command that
// needs them, not here: `serve` starts on every connection and `status` should be
// instant, so each command loads only its own part of the program.
import type { ConfigError } from '../config/index.js';
import type { TunnelExit } from '../runtime/client.js';
import type { FailureKind } from '../runtime/errors.js';
import { escapeLogLines } from '../runtime/log-escape.js';
import { type LogFormat, Logger } from '../runtime/logger.js';
import { DEFAULT_STATE_ROOT } from '../runtime/state-dir.js';
import { COMMANDS, closest, parseCommandLine } from './args.js';
import { CliError, ExitCode, type ExitCodeValue } from './exit-codes.js';
import { HELP } from './help.js';
import { startStartupTrace } from './startup-trace.js';
import { cmdDown, cmdStatus } from './tunnels.js';

interface Globals {
  debug: boolean;
  logFormat: LogFormat;
  stateRoot: string;
}

const KIND_EXIT: Record<FailureKind, ExitCodeValue> = {
  ok: ExitCode.OK,
  config: ExitCode.CONFIG,
  connect: ExitCode.SSH_CONNECT,
  'host-key': ExitCode.HOST_KEY,
  auth: ExitCode.SSH_AUTH,
  ppp: ExitCode.PPP_FAILED,
  'link-lost': ExitCode.LINK_LOST,
  system: ExitCode.SYSTEM,
  busy: ExitCode.NOT_AVAILABLE,
  internal: ExitCode.INTERNAL,
};

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function errLine(text: string): void {
  // Exit messages may carry far-end text (a disconnect reason): no control characters raw.
  process.stderr.write(`ts-vpn: ${escapeLogLines(text)}\n`);
}

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** Exits once stderr/stdout are flushed. */
function exit(code: number): never {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
  setTimeout(() => process.exit(code), 500).unref();
  // Never returns: the process ends in the callbacks above.
  return undefined as never;
}

function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const m = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
  } catch {
    return false;
  }
}

/** ConfigError without loading the config module (zod, yaml) for every command. */
function isConfigError(err: unknown): err is ConfigError {
  return err instanceof Error && (err as { code?: unknown }).code === 'CONFIG_INVALID';
}

function printConfigError(err: ConfigError): void {
  for (const line of err.message.split('\n')) errLine(line);
}

function makeLogger(g: Globals, opts: { timestamps?: boolean; debug?: boolean } = {}): Logger {
  return new Logger({
    format: g.logFormat,
    debug: g.debug || (opts.debug ?? false),
    timestamps: opts.timestamps ?? true,
  });
}

// ---- commands ----------------------------------------------------------------------------

async function cmdUp(args: string[], g: Globals): Promise<number> {
  const [
    { SdNotifier },
    { loadPeerConfig, parseConfigWithoutJit },
    { ClientTunnel },
    { ttyPrompter },
  ] = await Promise.all([
    import('../runtime/sd-notify.js'),
    import('../config/index.js'),
    import('../runtime/client.js'),
    import('../runtime/tty-prompt.js'),
  ]);
  parseConfigWithoutJit(); // one small file: zod's interpreter is cheaper than its JIT
  // First, before anything is spawned: takes NOTIFY_SOCKET out of the environment.
  const sd = new SdNotifier({ log: { warn: (m) => errLine(m) } });
  if (args.length !== 1)
    throw new CliError(`up takes one peer.yaml (see "ts-vpn up --help")`, ExitCode.CONFIG, 'USAGE');
  const cfg = await loadPeerConfig(args[0], { stateRoot: g.stateRoot });
  if (!hasNetAdmin()) {
    throw new CliError(
      'ts-vpn up needs root or CAP_NET_ADMIN (it creates a TUN interface and routes); try sudo',
      ExitCode.SYSTEM,
      'NOT_ROOT',
    );
  }
  const log = makeLogger(g, { debug: cfg.ppp.debug });
  for (const w of cfg.warnings) log.warn(w);
  const tunnel = new ClientTunnel(cfg, {
    logger: log,
    stateRoot: g.stateRoot,
    retryStart: true,
    dropPrivileges: true,
    notifier: sd,
    // SSH passwords / keyboard-interactive are asked on the terminal, never elsewhere.
    sshPrompter: process.stdin.isTTY ? ttyPrompter() : undefined,
  });
  const wd = sd.watchdogIntervalMs();
  const wdTimer = wd ? setInterval(() => sd.watchdog(), wd) : null;
  wdTimer?.unref();
  let signals = 0;
  const onStop = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      sd.stopping(`stopping: ${sig}`);
      log.info(`${sig}: shutting down`);
      void tunnel.close(sig === 'SIGINT' ? 'User request' : `Terminated (${sig})`);
    } else if (signals >= 3) {
      errLine(`${sig} again: exiting without cleaning up`);
      process.exit(ExitCode.INTERNAL);
    }
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', () => {
    sd.reloading('reconnecting (SIGHUP)');
    tunnel.reconnectNow('SIGHUP: reconnect requested');
  });
  process.on('SIGUSR1', () => {
    log.debugEnabled = !log.debugEnabled;
    log.info(`debug ${log.debugEnabled ? 'on' : 'off'} (SIGUSR1)`);
  });
  await tunnel.start().catch(() => undefined);
  const result: TunnelExit = await tunnel.done;
  if (wdTimer) clearInterval(wdTimer);
  sd.close();
  if (result.kind === 'ok') log.info(`tunnel ${cfg.name} down: ${result.message}`);
  else errLine(result.message);
  return KIND_EXIT[result.kind];
}

async function cmdServe(
  args: string[],
  g: Globals,
  configOpt: string | undefined,
  clientRoutes: string[],
): Promise<number> {
  if (args.length > 1 || (args.length === 1 && configOpt)) {
    throw new CliError(
      'serve takes at most one server.yaml (positional or --config)',
      ExitCode.CONFIG,
      'USAGE',
    );
  }
  const [{ loadServerConfig, parseConfigWithoutJit }, { ServeSession }] = await Promise.all([
    import('../config/index.js'),
    import('../runtime/server.js'),
  ]);
  parseConfigWithoutJit(); // one small file: zod's interpreter is cheaper than its JIT
  const cfg = await loadServerConfig(configOpt ?? args[0]);
  if (process.stdin.isTTY) {
    throw new CliError(
      'serve speaks PPP on stdin/stdout and is started over SSH (remote.command in peer.yaml, or pppd pty "ssh gw ts-vpn serve"); it does nothing on a terminal',
      ExitCode.CONFIG,
      'USAGE',
    );
  }
  if (!hasNetAdmin()) {
    throw new CliError(
      'ts-vpn serve needs root or CAP_NET_ADMIN (it creates a TUN interface); run it with sudo',
      ExitCode.SYSTEM,
      'NOT_ROOT',
    );
  }
  // stdout carries PPP: every log line goes to stderr (the Logger default), without
  // timestamps (the client prefixes them with its own).
  const log = makeLogger(g, { timestamps: false, debug: cfg.debug });
  for (const w of cfg.warnings) log.warn(`serve: ${w}`);
  const session = new ServeSession(cfg, { logger: log, clientRoutes });
  const onStop = (sig: NodeJS.Signals) => void session.close(`Terminated (${sig})`);
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onStop);
  process.on('SIGUSR1', () => {
    log.debugEnabled = !log.debugEnabled;
  });
  try {
    session.start();
  } catch {
    /* reported through done */
  }
  const result = await session.done;
  if (result.kind !== 'ok') errLine(result.message);
  return KIND_EXIT[result.kind];
}

// ---- entry ---------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    const { command, rest, values: v } = parseCommandLine(argv);
    debug = v.debug ?? false;
    const fmt = v['log-format'] ?? 'text';
    if (fmt !== 'text' && fmt !== 'json')
      throw new CliError(
        `--log-format: expected text or json, got ${JSON.stringify(fmt)}`,
        ExitCode.CONFIG,
        'USAGE',
      );
    const g: Globals = {
      debug,
      logFormat: fmt,
      stateRoot: v['state-dir'] ? join(v['state-dir']) : DEFAULT_STATE_ROOT,
    };
    if (v.version && !command) {
      out(`ts-vpn ${version()}`);
      return ExitCode.OK;
    }
    if (!command || command === 'help') {
      // `ts-vpn help --help` is the help command's own help.
      const topic = command === 'help' ? (rest[0] ?? (v.help ? 'help' : undefined)) : undefined;
      if (topic && !HELP[topic]) {
        const guess = closest(topic, COMMANDS);
        throw new CliError(
          `no help for ${JSON.stringify(topic)}${guess ? `; did you mean "${guess}"?` : ''} (commands: ${COMMANDS.join(', ')})`,
          ExitCode.CONFIG,
          'USAGE',
        );
      }
      out(HELP[topic ?? 'main']);
      return command || v.help ? ExitCode.OK : ExitCode.CONFIG;
    }
    if (v.help) {
      out(HELP[command]);
      return ExitCode.OK;
    }
    const tunnels = { stateRoot: g.stateRoot, out, errLine };
    switch (command) {
      case 'up':
        return await cmdUp(rest, g);
      case 'serve':
        return await cmdServe(rest, g, v.config, v['client-route'] ?? []);
      case 'check': {
        const { cmdCheck } = await import('./check.js');
        return await cmdCheck(rest, { peer: v.peer, server: v.server, gateway: v.gateway }, out);
      }
      case 'status':
        return await cmdStatus(rest, tunnels, v.json ?? false);
      case 'down':
        if (v.session !== undefined) {
          // A session of the gateway on this machine (src/gateway).
          const { downGatewaySession } = await import('../gateway/cli.js');
          return await downGatewaySession(g.stateRoot, v.session, { out, err: errLine });
        }
        return await cmdDown(rest, tunnels);
      case 'gateway': {
        if (rest.length > 1 || (rest.length === 1 && v.config))
          throw new CliError('gateway takes at most one gateway.yaml', ExitCode.CONFIG, 'USAGE');
        const { runGateway } = await import('../gateway/cli.js');
        return await runGateway(v.config ?? rest[0] ?? null, (debug) => makeLogger(g, { debug }), {
          out,
          err: errLine,
        });
      }
      case 'version':
        if (rest.length > 0)
          throw new CliError('version takes no arguments', ExitCode.CONFIG, 'USAGE');
        out(`ts-vpn ${version()}`);
        return ExitCode.OK;
      default:
        throw new CliError(`unknown command "${command}"`, ExitCode.CONFIG, 'USAGE');
    }
  } catch (err) {
    if (isConfigError(err)) {
      printConfigError(err);
      return ExitCode.CONFIG;
    }
    if (err instanceof CliError) {
      errLine(err.message);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    errLine(
      `internal error: ${(err as Error)?.message ?? String(err)}${debug ? '' : ' (rerun with --debug for details)'}`,
    );
    if (debug && (err as Error)?.stack) process.stderr.write(`${(err as Error).stack}\n`);
    return ExitCode.INTERNAL;
  }
}

/**
 * Runs the command line and exits when it is done: what the `ts-vpn` bin calls
 * (dist/cli/main.js, src/cli/launcher.cts, loads the CLI bundle and calls this).
 */
export function run(argv: string[]): void {
  startStartupTrace();
  main(argv).then(exit, (err) => {
    errLine(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    exit(ExitCode.INTERNAL);
  });
}

export { warmUp } from './warm-up.js';
