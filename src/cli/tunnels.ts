/**
 * `ts-vpn status` and `ts-vpn down`: find running tunnels in the state directory and talk
 * to their control sockets. The state directory is root's (mode 0700): a user who cannot
 * read it is told that root is needed (exit 10), never that no tunnel runs.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlRequest } from '../runtime/control.js';
import { listTunnels, pidAlive, TunnelStateDir } from '../runtime/state-dir.js';
import {
  formatStatusList,
  formatStatusTable,
  NO_TUNNEL_TEXT,
  type TunnelStatus,
} from '../runtime/status-format.js';
import { CliError, ExitCode } from './exit-codes.js';

export interface TunnelCommandContext {
  stateRoot: string;
  out(text: string): void;
  errLine(text: string): void;
}

function denied(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * Throws NO_PERMISSION when this user cannot see the tunnels in `root` (the directory,
 * or one tunnel's directory in it, is not readable): the answer "no tunnel is running"
 * would then be a guess.
 */
export function assertStateReadable(root: string, command: string): void {
  const refuse = (what: string): never => {
    const uid = process.getuid?.();
    throw new CliError(
      `${command} needs root: ${what} is not readable by this user${uid === undefined ? '' : ` (uid ${uid})`}, so running tunnels cannot be seen; try sudo ts-vpn ${command}`,
      ExitCode.NO_PERMISSION,
      'NO_PERMISSION',
    );
  };
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    // Absent: no tunnel. A parent we may not search is EACCES, not ENOENT.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (denied(err)) refuse(`the state directory ${root}`);
    throw err;
  }
  for (const name of names) {
    try {
      accessSync(join(root, name), constants.R_OK | constants.X_OK);
    } catch (err) {
      if (denied(err)) refuse(`the state directory ${join(root, name)}`);
    }
  }
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

export async function cmdStatus(
  args: string[],
  ctx: TunnelCommandContext,
  json: boolean,
): Promise<number> {
  if (args.length > 1)
    throw new CliError('status takes at most one tunnel name', ExitCode.CONFIG, 'USAGE');
  assertStateReadable(ctx.stateRoot, 'status');
  const named = args.length === 1;
  const running = listTunnels(ctx.stateRoot).filter(
    (t) => t.running && (!named || t.name === args[0]),
  );
  // A gateway on this machine (src/gateway): its sessions are listed on their own.
  const gwCli = named ? null : await import('../gateway/cli.js');
  const gw = gwCli ? await gwCli.queryGateway(ctx.stateRoot) : null;
  if (gwCli && gw) {
    ctx.out(json ? JSON.stringify(gw, null, 2) : gwCli.formatGatewayStatus(gw));
    if (running.length === 0) return ExitCode.OK;
  }
  if (running.length === 0) {
    if (named) {
      ctx.errLine(`no tunnel named "${args[0]}" is running`);
      return ExitCode.NOT_AVAILABLE;
    }
    // --json answers "which tunnels run": an empty list is an answer (exit 0). The text
    // form keeps exit 9, so `ts-vpn status >/dev/null` still tells whether one runs.
    if (json) {
      ctx.out('[]');
      return ExitCode.OK;
    }
    ctx.out(NO_TUNNEL_TEXT);
    return ExitCode.NOT_AVAILABLE;
  }
  const results: TunnelStatus[] = [];
  let failed = false;
  for (const t of running) {
    try {
      const r = await controlRequest(new TunnelStateDir(t.name, ctx.stateRoot).controlPath, {
        cmd: 'status',
      });
      if (r.ok !== true) throw new Error(String(r.error));
      results.push(r.status as TunnelStatus);
    } catch (err) {
      failed = true;
      ctx.errLine(
        `tunnel ${t.name} (pid ${t.pid}): no answer on its control socket: ${(err as Error).message}`,
      );
    }
  }
  if (named) {
    if (results.length === 0) return ExitCode.NOT_AVAILABLE;
    ctx.out(json ? JSON.stringify(results[0], null, 2) : formatStatusTable(results[0]));
  } else {
    ctx.out(json ? JSON.stringify(results, null, 2) : formatStatusList(results));
  }
  return failed ? ExitCode.NOT_AVAILABLE : ExitCode.OK;
}

export async function cmdDown(args: string[], ctx: TunnelCommandContext): Promise<number> {
  if (args.length > 1)
    throw new CliError('down takes at most one tunnel name', ExitCode.CONFIG, 'USAGE');
  assertStateReadable(ctx.stateRoot, 'down');
  const running = listTunnels(ctx.stateRoot).filter((t) => t.running);
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
    ctx.errLine(args.length ? `no tunnel named "${args[0]}" is running` : 'no tunnel is running');
    return ExitCode.NOT_AVAILABLE;
  }
  const r = await controlRequest(new TunnelStateDir(target.name, ctx.stateRoot).controlPath, {
    cmd: 'down',
  });
  if (r.ok !== true)
    throw new CliError(`tunnel ${target.name}: ${String(r.error)}`, ExitCode.INTERNAL);
  // Done when the tunnel released its lock (last step of teardown) or its process is gone.
  const dir = new TunnelStateDir(target.name, ctx.stateRoot);
  const pid = target.pid ?? 0;
  const finished = () => !existsSync(dir.pidPath) || processGone(pid);
  const deadline = Date.now() + 15_000;
  while (!finished() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  if (!finished()) {
    ctx.errLine(`tunnel ${target.name} (pid ${target.pid}) is still shutting down`);
    return ExitCode.INTERNAL;
  }
  ctx.out(`tunnel ${target.name} is down`);
  return ExitCode.OK;
}
