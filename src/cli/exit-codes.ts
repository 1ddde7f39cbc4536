/**
 * Process exit codes of `ts-vpn`, stable and documented in the README.
 * Scripts and service managers may rely on them.
 */
import { CodedError } from '../coded-error.js';
export const ExitCode = {
  /** Clean shutdown: SIGINT/SIGTERM, `ts-vpn down`, or a command that succeeded. */
  OK: 0,
  /** Unexpected internal error (a bug: please report it with --debug output). */
  INTERNAL: 1,
  /** Usage or configuration error; nothing was changed on the system. */
  CONFIG: 2,
  /** Could not reach the SSH server (DNS, refused, timeout, connection lost before PPP). */
  SSH_CONNECT: 3,
  /** SSH host key unknown, changed or revoked: refused, like OpenSSH. */
  HOST_KEY: 4,
  /** SSH authentication failed (key, agent). */
  SSH_AUTH: 5,
  /** PPP negotiation failed (LCP, PAP/CHAP, IPCP: no acceptable address, far end refused). */
  PPP_FAILED: 6,
  /** The link was lost and reconnecting is disabled or `max-fail` attempts were used up. */
  LINK_LOST: 7,
  /** Local system error: not root, no /dev/net/tun, netlink refused a change. */
  SYSTEM: 8,
  /** A tunnel with this name is already running (or, for status/down, none is). */
  NOT_AVAILABLE: 9,
  /** status/down: this user cannot read the state directory (root's); run it as root. */
  NO_PERMISSION: 10,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `Exit codes:
  0  clean shutdown (signal, "ts-vpn down") or success
  1  internal error (a bug; rerun with --debug and report it)
  2  usage or configuration error; nothing was changed
  3  SSH server unreachable (DNS, refused, timeout)
  4  SSH host key unknown, changed or revoked (refused)
  5  SSH authentication failed
  6  PPP negotiation failed (LCP, PAP/CHAP, IPCP)
  7  link lost and reconnect disabled or max-fail reached
  8  local system error (not root, no /dev/net/tun, netlink)
  9  tunnel already running (up) / no such tunnel (status, down)
  10 permission denied: status/down cannot read the state directory (run as root)`;

/** Errors that carry their own exit code. */
export class CliError extends CodedError {
  override readonly name = 'CliError';
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, code = 'CLI_ERROR') {
    super(code, message);
    this.exitCode = exitCode;
  }
}
