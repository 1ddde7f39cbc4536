/**
 * The client's record in its state directory (/run/ts-vpn/<name>/state.json):
 * what `ts-vpn up` configured (interface, addresses, routes, resolv.conf it
 * wrote), so that the next run can remove what a crashed one left behind.
 */
import type { RouteHandle } from '../tun/index.js';
import { recoverResolvConf } from './dns.js';
import type { TunnelInterface } from './interface.js';
import { loadInterfaceModule } from './interface-loader.js';
import type { Logger } from './logger.js';
import type { TunnelStateDir } from './state-dir.js';

export interface SavedState {
  pid: number;
  interface: string | null;
  local: string | null;
  peer: string | null;
  routes: RouteHandle[];
  resolvConf: string | null;
}

/** A previous run that did not exit cleanly, as its state file recorded it. */
export interface StaleRun {
  pid: number;
  state: Partial<SavedState> | undefined;
}

/** Locks the state directory (throws when another live run holds it); returns a stale run to clean. */
export function lockState(dir: TunnelStateDir): StaleRun | null {
  const r = dir.lock();
  if (!r.stale) return null;
  return { pid: r.stale.pid, state: r.stale.state as Partial<SavedState> | undefined };
}

/** Removes what a crashed run recorded (the host route to the SSH server especially). */
export async function cleanStaleRun(s: StaleRun, stateDir: string, log: Logger): Promise<void> {
  const routes = Array.isArray(s.state?.routes) ? (s.state.routes as RouteHandle[]) : [];
  const removed =
    routes.length > 0 ? await (await loadInterfaceModule()).removeStaleRoutes(routes) : [];
  recoverResolvConf(stateDir, s.state?.resolvConf ?? null, log);
  log.warn(
    `previous run (pid ${s.pid}) did not exit cleanly: ${
      removed.length > 0
        ? `removed its routes ${removed.join(', ')}`
        : 'nothing of it was left to remove'
    }${s.state?.interface ? ` (its interface ${s.state.interface} went away with it)` : ''}`,
  );
}

/** Records the configured tunnel; a failure to write is logged, not fatal. */
export function writeState(
  dir: TunnelStateDir,
  i: TunnelInterface | null,
  resolvConf: string | null,
  log: Logger,
): void {
  const state: SavedState = {
    pid: process.pid,
    interface: i?.name ?? null,
    local: i?.local4 ?? null,
    peer: i?.peer4 ?? null,
    routes: i?.routeHandles() ?? [],
    resolvConf,
  };
  try {
    dir.writeState(state);
  } catch (err) {
    log.warn(`cannot write ${dir.statePath}: ${(err as Error).message}`);
  }
}
