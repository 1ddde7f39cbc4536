#!/usr/bin/env node
/**
 * `ts-vpn` command line: up, serve, gateway, check, status, down, version, help.
 * Signals and process exit live here, never in src/runtime.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// Heavy modules (yaml, zod, ssh2, netlink, koffi) are imported by the command that
// needs them, not here: `serve` starts on every connection and `status` should be
// instant, so each command loads only its own part of the program.
import type { ConfigError } from '../config/index.js';
import type { TunnelExit } from '../runtime/client.js';
import { controlRequest } from '../runtime/control.js';
import type { FailureKind } from '../runtime/errors.js';
import { type LogFormat, Logger } from '../runtime/logger.js';
import { DEFAULT_STATE_ROOT, listTunnels, pidAlive, TunnelStateDir } from '../runtime/state-dir.js';
import {
  formatStatusList,
  formatStatusTable,
  NO_TUNNEL_TEXT,
  type TunnelStatus,
} from '../runtime/status-format.js';
import { CliError, ExitCode, type ExitCodeValue } from './exit-codes.js';
import { HELP } from './help.js';

const OPTIONS = {
  debug: { type: 'boolean' },
  'log-format': { type: 'string' },
  'state-dir': { type: 'string' },
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  'client-route': { type: 'string', multiple: true },
  session: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

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
  process.stderr.write(`ts-vpn: ${text}\n`);
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

/** True when `pid` no longer runs (absent, or a zombie its parent has not reaped yet). */
function processGone(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
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
  const [{ SdNotifier }, { loadPeerConfig }, { ClientTunnel }] = await Promise.all([
    import('../runtime/sd-notify.js'),
    import('../config/index.js'),
    import('../runtime/client.js'),
  ]);
  // First, before anything is spawned: takes NOTIFY_SOCKET out of the environment.
  const sd = new SdNotifier({ log: { warn: (m) => errLine(m) } });
  if (args.length !== 1)
    throw new CliError(`up takes one peer.yaml (see "ts-vpn up --help")`, ExitCode.CONFIG, 'USAGE');
  const cfg = await loadPeerConfig(args[0]);
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
    notifier: sd,
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
  const [{ loadServerConfig }, { ServeSession }] = await Promise.all([
    import('../config/index.js'),
    import('../runtime/server.js'),
  ]);
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

async function cmdCheck(args: string[]): Promise<number> {
  if (args.length !== 1)
    throw new CliError(
      'check takes one file (see "ts-vpn check --help")',
      ExitCode.CONFIG,
      'USAGE',
    );
  const file = args[0];
  const [{ parse: parseYaml }, { describeConfig, loadPeerConfig, loadServerConfig }] =
    await Promise.all([import('yaml'), import('../config/index.js')]);
  let kind: 'peer' | 'server' = 'server';
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
    if (
      doc &&
      typeof doc === 'object' &&
      ('ssh' in doc || 'remote' in doc || 'ppp' in doc || 'tunnel' in doc)
    )
      kind = 'peer';
  } catch {
    kind = /peer|client/i.test(file) ? 'peer' : 'server';
  }
  const cfg = kind === 'peer' ? await loadPeerConfig(file) : await loadServerConfig(file);
  out(describeConfig(cfg));
  out(
    `ok: ${file} is a valid ${kind === 'peer' ? 'peer (ts-vpn up)' : 'server (ts-vpn serve)'} configuration`,
  );
  return ExitCode.OK;
}

async function cmdStatus(args: string[], g: Globals, json: boolean): Promise<number> {
  if (args.length > 1)
    throw new CliError('status takes at most one tunnel name', ExitCode.CONFIG, 'USAGE');
  const named = args.length === 1;
  const running = listTunnels(g.stateRoot).filter(
    (t) => t.running && (!named || t.name === args[0]),
  );
  // A gateway on this machine (src/gateway): its sessions, listed on their own.
  const gw = named ? null : await (await import('../gateway/cli.js')).queryGateway(g.stateRoot);
  if (gw && running.length === 0) {
    const { formatGatewayStatus } = await import('../gateway/cli.js');
    out(json ? JSON.stringify(gw, null, 2) : formatGatewayStatus(gw));
    return ExitCode.OK;
  }
  if (gw)
    out(
      json
        ? JSON.stringify({ gateway: gw })
        : (await import('../gateway/cli.js')).formatGatewayStatus(gw),
    );
  if (running.length === 0) {
    if (named) {
      errLine(`no tunnel named "${args[0]}" is running`);
    } else if (json) out('[]');
    else out(NO_TUNNEL_TEXT);
    return ExitCode.NOT_AVAILABLE;
  }
  const results: TunnelStatus[] = [];
  let failed = false;
  for (const t of running) {
    try {
      const r = await controlRequest(new TunnelStateDir(t.name, g.stateRoot).controlPath, {
        cmd: 'status',
      });
      if (r.ok !== true) throw new Error(String(r.error));
      results.push(r.status as TunnelStatus);
    } catch (err) {
      failed = true;
      errLine(
        `tunnel ${t.name} (pid ${t.pid}): no answer on its control socket: ${(err as Error).message}`,
      );
    }
  }
  if (named) {
    if (results.length === 0) return ExitCode.NOT_AVAILABLE;
    out(json ? JSON.stringify(results[0], null, 2) : formatStatusTable(results[0]));
  } else {
    out(json ? JSON.stringify(results, null, 2) : formatStatusList(results));
  }
  return failed ? ExitCode.NOT_AVAILABLE : ExitCode.OK;
}

async function cmdDown(args: string[], g: Globals, session?: string): Promise<number> {
  if (session !== undefined) {
    const { downGatewaySession } = await import('../gateway/cli.js');
    return downGatewaySession(g.stateRoot, session, { out, err: errLine });
  }
  if (args.length > 1)
    throw new CliError('down takes at most one tunnel name', ExitCode.CONFIG, 'USAGE');
  const running = listTunnels(g.stateRoot).filter((t) => t.running);
  let target = running.find((t) => t.name === args[0]);
  if (args.length === 0) {
    if (running.length > 1)
      throw new CliError(
        `several tunnels are running (${running.map((t) => t.name).join(', ')}); name one`,
        ExitCode.CONFIG,
        'USAGE',
      );
    target = running[0];
  }
  if (!target) {
    errLine(args.length ? `no tunnel named "${args[0]}" is running` : 'no tunnel is running');
    return ExitCode.NOT_AVAILABLE;
  }
  const r = await controlRequest(new TunnelStateDir(target.name, g.stateRoot).controlPath, {
    cmd: 'down',
  });
  if (r.ok !== true)
    throw new CliError(`tunnel ${target.name}: ${String(r.error)}`, ExitCode.INTERNAL);
  // Done when the tunnel released its lock (last step of teardown) or its process is gone.
  const dir = new TunnelStateDir(target.name, g.stateRoot);
  const pid = target.pid ?? 0;
  const finished = () => !existsSync(dir.pidPath) || processGone(pid);
  const deadline = Date.now() + 15_000;
  while (!finished() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  if (!finished()) {
    errLine(`tunnel ${target.name} (pid ${target.pid}) is still shutting down`);
    return ExitCode.INTERNAL;
  }
  out(`tunnel ${target.name} is down`);
  return ExitCode.OK;
}

// ---- entry ---------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    let parsed: ReturnType<
      typeof parseArgs<{
        args: string[];
        options: typeof OPTIONS;
        allowPositionals: true;
        strict: true;
      }>
    >;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      const m = /Unknown option '([^']+)'/.exec((err as Error).message);
      const msg = m ? `unknown option ${m[1]}` : (err as Error).message.split('\n')[0];
      throw new CliError(`${msg} (see "ts-vpn help")`, ExitCode.CONFIG, 'USAGE');
    }
    const v = parsed.values;
    debug = v.debug ?? false;
    const [command, ...rest] = parsed.positionals;
    const fmt = v['log-format'] ?? 'text';
    if (fmt !== 'text' && fmt !== 'json')
      throw new CliError(
        `--log-format: expected text or json, got "${fmt}"`,
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
      const topic = command === 'help' ? rest[0] : undefined;
      if (topic && !HELP[topic])
        throw new CliError(
          `no help for "${topic}"; commands: up, serve, gateway, check, status, down, version`,
          ExitCode.CONFIG,
          'USAGE',
        );
      out(HELP[topic ?? 'main']);
      return command || v.help ? ExitCode.OK : ExitCode.CONFIG;
    }
    if (!HELP[command])
      throw new CliError(
        `unknown command "${command}"; commands: up, serve, gateway, check, status, down, version, help`,
        ExitCode.CONFIG,
        'USAGE',
      );
    if (v.help) {
      out(HELP[command]);
      return ExitCode.OK;
    }
    switch (command) {
      case 'up':
        return await cmdUp(rest, g);
      case 'serve':
        return await cmdServe(rest, g, v.config, v['client-route'] ?? []);
      case 'check':
        return await cmdCheck(rest);
      case 'status':
        return await cmdStatus(rest, g, v.json ?? false);
      case 'down':
        return await cmdDown(rest, g, v.session);
      case 'gateway': {
        if (rest.length > 1 || (rest.length === 1 && v.config))
          throw new CliError('gateway takes at most one gateway.yaml', ExitCode.CONFIG, 'USAGE');
        const { runGateway } = await import('../gateway/cli.js');
        return await runGateway(
          v.config ?? rest[0] ?? null,
          (debug) => makeLogger(g, { debug: g.debug || debug }),
          { out, err: errLine },
        );
      }
      case 'version':
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

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  const self = fileURLToPath(import.meta.url);
  try {
    return realpathSync(process.argv[1]) === realpathSync(self);
  } catch {
    // Our file is gone after it was loaded (dist/ rebuilt, package upgraded): compare
    // the paths as given. Returning false here made the CLI exit 0 silently, which a
    // client reported as "remote command exited with code 0".
    return resolve(process.argv[1]) === self;
  }
}

const isMain = invokedDirectly();
if (isMain) {
  main(process.argv.slice(2)).then(exit, (err) => {
    errLine(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    exit(ExitCode.INTERNAL);
  });
}
