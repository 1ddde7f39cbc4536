/**
 * The command-line side of the gateway, kept here so src/cli/main.ts only
 * dispatches: `ts-vpn gateway [gateway.yaml]`, the gateway part of
 * `ts-vpn status [--json]`, and `ts-vpn down --session ID`.
 */
import { existsSync } from 'node:fs';
import { controlRequest } from '../runtime/control.js';
import type { Logger } from '../runtime/logger.js';
import { formatBytes, formatDuration } from '../runtime/status-format.js';
import type { Account } from '../sys/privileges.js';
import type { GatewayStatus } from './daemon.js';
import { gatewayControlPath } from './daemon.js';

/** Exit codes used here (the same numbers as src/cli/exit-codes.ts). */
const EXIT = { OK: 0, CONFIG: 2, SYSTEM: 8, NOT_AVAILABLE: 9 } as const;

export interface GatewayCliIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Runs the daemon until SIGINT/SIGTERM. Returns the exit code: 0 after a clean
 * stop, 2 for a config error (thrown as ConfigError, or an unknown run-as account),
 * 8 when setting up failed (forwarding off, no LAN interface, socket path busy, not
 * root, switching to run-as failed).
 *
 * SIGINT/SIGTERM are taken from the first line: one that comes while the gateway sets
 * up (sysctls, nft rules, sockets) is acted on once that is done, so a stop at any
 * moment leaves nothing behind (Node's default for an unhandled SIGTERM is to die on
 * the spot). A second signal while stopping is only logged.
 */
export async function runGateway(
  path: string | null,
  makeLog: (debug: boolean) => Logger,
  io: GatewayCliIo,
): Promise<number> {
  let requested: NodeJS.Signals | null = null;
  let onSignal = (sig: NodeJS.Signals) => {
    requested ??= sig;
  };
  // SIGHUP (reload) before the daemon serves: read the file once it does.
  let hupPending = false;
  let onHup = () => {
    hupPending = true;
  };
  const handler = (sig: NodeJS.Signals) => onSignal(sig);
  const hupHandler = () => onHup();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', hupHandler);
  try {
    return await serveUntilSignal(path, makeLog, io, {
      onHup: (reload) => {
        onHup = reload;
        if (hupPending) {
          hupPending = false;
          reload();
        }
      },
      requested: () => requested,
      wait: () =>
        new Promise<NodeJS.Signals>((resolve) => {
          if (requested !== null) return resolve(requested);
          onSignal = (sig) => {
            if (requested !== null) return;
            requested = sig;
            resolve(sig);
          };
        }),
    });
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    process.off('SIGHUP', hupHandler);
  }
}

async function serveUntilSignal(
  path: string | null,
  makeLog: (debug: boolean) => Logger,
  io: GatewayCliIo,
  stop: {
    requested(): NodeJS.Signals | null;
    wait(): Promise<NodeJS.Signals>;
    /** Sets what SIGHUP does from now on (run at once for one that came earlier). */
    onHup(reload: () => void): void;
  },
): Promise<number> {
  const [{ loadGatewayConfig }, { Gateway }, { resolveAccount }] = await Promise.all([
    import('../config/gateway.js'),
    import('./daemon.js'),
    import('../sys/privileges.js'),
  ]);
  const cfg = await loadGatewayConfig(path);
  const log = makeLog(cfg.debug);
  for (const w of cfg.warnings) log.warn(`gateway: ${w}`);
  if (process.getuid?.() !== 0) {
    io.err('ts-vpn gateway needs root or CAP_NET_ADMIN (TUN devices, routes, neighbour entries)');
    return EXIT.SYSTEM;
  }
  let account: Account | null;
  try {
    account = resolveAccount(cfg.runAs.user, cfg.runAs.group);
  } catch (err) {
    io.err(`${cfg.source}: run-as.${(err as Error).message}`);
    return EXIT.CONFIG;
  }
  const early = stop.requested();
  if (early !== null) {
    log.info(`gateway: ${early} before start: nothing set up, exiting`);
    return EXIT.OK;
  }
  const gw = new Gateway(cfg, log);
  try {
    await gw.start();
  } catch (err) {
    io.err((err as Error).message);
    return EXIT.SYSTEM;
  }
  // Read again on SIGHUP: the file and its PPP secret files (read access kept for them).
  const readLater =
    path === null
      ? []
      : [path, ...cfg.auth.users.flatMap((u) => (u.passwordFile ? [u.passwordFile] : []))];
  try {
    gw.dropPrivileges(account, readLater);
  } catch (err) {
    io.err(
      `gateway: could not switch to run-as ${cfg.runAs.user ?? cfg.runAs.group}: ${(err as Error).message}`,
    );
    await gw.stop('could not drop privileges');
    return EXIT.SYSTEM;
  }
  process.on('SIGUSR1', () => {
    log.debugEnabled = !log.debugEnabled;
  });
  let reloading: Promise<unknown> = Promise.resolve();
  stop.onHup(() => {
    if (path === null) {
      log.warn('gateway: SIGHUP: started without a gateway.yaml, nothing to read again');
      return;
    }
    log.info(`gateway: SIGHUP: reading ${path} again`);
    reloading = reloading.then(() => gw.reload(() => loadGatewayConfig(path)));
  });
  const sig = await stop.wait();
  stop.onHup(() => log.info('gateway: SIGHUP while stopping: not reading gateway.yaml again'));
  await reloading;
  log.info(`gateway: ${sig}: stopping`);
  const again = (s: NodeJS.Signals) => log.info(`gateway: ${s}: already stopping`);
  process.on('SIGINT', again);
  process.on('SIGTERM', again);
  try {
    await gw.stop(`Terminated (${sig})`);
  } finally {
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
  return EXIT.OK;
}

/** The gateway's status, or null when no gateway runs with this state directory. */
export async function queryGateway(stateDir: string): Promise<GatewayStatus | null> {
  const path = gatewayControlPath(stateDir);
  if (!existsSync(path)) return null;
  try {
    const r = await controlRequest(path, { cmd: 'status' });
    return r.ok === true ? (r.gateway as GatewayStatus) : null;
  } catch {
    return null;
  }
}

export function formatGatewayStatus(s: GatewayStatus, now = Date.now()): string {
  const lines = [
    `gateway pid ${s.pid} on ${s.socket}: ${s.sessions.length} session${s.sessions.length === 1 ? '' : 's'}, up ${formatDuration(now - s.startedAt)}, rss ${s.rssMb} MB`,
  ];
  const ended = Object.entries(s.ended)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  if (ended) lines.push(`  ended since start: ${ended}`);
  if (s.endedBadFrames) lines.push(`  bad frames from ended sessions: ${s.endedBadFrames}`);
  if (s.sessions.length === 0) return lines.join('\n');
  lines.push(
    '  ID      USER         UID    STATE        INTERFACE  PEER             UPTIME   RX        TX        RTT     DROPS',
  );
  for (const x of s.sessions) {
    lines.push(
      `  ${x.id.padEnd(7)} ${x.user.slice(0, 12).padEnd(12)} ${String(x.uid).padEnd(6)} ${x.state.padEnd(12)} ${(x.interface ?? '-').padEnd(10)} ${(x.peer ?? '-').padEnd(16)} ${formatDuration(now - x.startedAt).padEnd(8)} ${formatBytes(x.rx.bytes).padEnd(9)} ${formatBytes(x.tx.bytes).padEnd(9)} ${x.echoRttMs === null ? '-'.padEnd(7) : `${x.echoRttMs.toFixed(1)} ms`.padEnd(7)} ${x.drops}`,
    );
  }
  return lines.join('\n');
}

/** `ts-vpn down --session ID`. */
export async function downGatewaySession(
  stateDir: string,
  id: string,
  io: GatewayCliIo,
): Promise<number> {
  const path = gatewayControlPath(stateDir);
  if (!existsSync(path)) {
    io.err(`no gateway is running (no ${path})`);
    return EXIT.NOT_AVAILABLE;
  }
  const r = await controlRequest(path, { cmd: 'down-session', session: id }, 10_000);
  if (r.ok !== true) {
    io.err(String(r.error));
    return EXIT.NOT_AVAILABLE;
  }
  io.out(`session ${id} ended`);
  return EXIT.OK;
}
