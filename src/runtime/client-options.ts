/**
 * What a caller hands a ClientTunnel (ClientTunnelOptions: logger, state root, control
 * socket, retrying the first attempt, privileges, systemd, network watch, SSH prompts)
 * and the events it emits (ClientTunnelEvents). Declarations only.
 */
import type { SshPrompter } from '../transport/index.js';
import type { TunnelExit } from './client-teardown.js';
import type { Logger } from './logger.js';
import type { SdNotifier } from './sd-notify.js';
import type { TunnelPhase, TunnelStatus } from './status-format.js';

export interface ClientTunnelOptions {
  logger?: Logger;
  /** Root of the per-tunnel state directories; default /run/ts-vpn. */
  stateRoot?: string;
  /** Listen on <state dir>/control.sock for `ts-vpn status/down`; default true. */
  controlSocket?: boolean;
  /**
   * Keep retrying (per `reconnect:`) when the very first attempt fails, instead of
   * rejecting start(). `ts-vpn up` sets this; default false (connect() rejects).
   */
  retryStart?: boolean;
  /**
   * Once the TUN device exists, keep only CAP_NET_ADMIN (and become `tunnel.user`)
   * for the rest of the process's life. `ts-vpn up` sets this; a library caller gets it
   * only when the config names `tunnel.user`/`tunnel.group` (docs/SECURITY.md).
   */
  dropPrivileges?: boolean;
  /** systemd notifications (READY, STATUS, STOPPING); the CLI creates it first thing. */
  notifier?: SdNotifier;
  /** Watch the route to the SSH server and reconnect when it changes; default true. */
  watchNetwork?: boolean;
  /**
   * Asks for SSH passwords / keyboard-interactive answers on each attempt when keys do not
   * do (`ts-vpn up` passes a terminal prompter when stdin is a TTY); default none.
   */
  sshPrompter?: SshPrompter;
}

export interface ClientTunnelEvents {
  phase: [TunnelPhase];
  up: [TunnelStatus];
  /** The link went away (reconnecting or finishing follows). */
  down: [string];
  closed: [TunnelExit];
}
