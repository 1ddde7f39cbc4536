/**
 * Why a tunnel could not start or ended. The runtime reports a `kind`; the CLI maps
 * it to a process exit code (src/cli/exit-codes.ts), the library hands it to callers.
 */
import { CodedError } from '../coded-error.js';
import { isTransportError } from '../transport/errors.js';
import { TunError } from '../tun/errors.js';
import { StateError } from './state-dir.js';

export type FailureKind =
  /** Clean end: close(), `ts-vpn down`, a signal, or the far end hung up a serve session. */
  | 'ok'
  /** Bad configuration; nothing was changed. */
  | 'config'
  /** SSH server unreachable (DNS, refused, timeout) or the connection dropped before PPP. */
  | 'connect'
  /** Host key unknown, changed or revoked. */
  | 'host-key'
  /** SSH authentication failed. */
  | 'auth'
  /** PPP negotiation failed (LCP, PAP/CHAP, IPCP), or the far end refused / exited early. */
  | 'ppp'
  /** The link was lost and reconnecting is off or gave up. */
  | 'link-lost'
  /** Local system error: TUN, netlink, permissions. */
  | 'system'
  /** A tunnel with this name already runs. */
  | 'busy'
  /** A bug. */
  | 'internal';

/** A tunnel failure; its `code` is the {@link FailureKind}, which the CLI maps to an exit code. */
export class TunnelError extends CodedError<Exclude<FailureKind, 'ok'>> {
  override readonly name = 'TunnelError';
  /**
   * The far end refused us in a way retrying cannot fix (PPP authentication, an
   * unacceptable address): the tunnel ends unless `reconnect.on-refusal: retry`.
   */
  readonly refusal: boolean;
  constructor(
    kind: Exclude<FailureKind, 'ok'>,
    message: string,
    options?: { cause?: unknown; refusal?: boolean },
  ) {
    super(kind, message, options);
    this.refusal = options?.refusal ?? false;
  }

  /** The failure kind (the same string as `code`). */
  get kind(): Exclude<FailureKind, 'ok'> {
    return this.code;
  }
}

/** Classifies any error thrown below the runtime. */
export function toTunnelError(err: unknown): TunnelError {
  if (err instanceof TunnelError) return err;
  if (isTransportError(err)) {
    switch (err.code) {
      case 'HOST_KEY_UNKNOWN':
      case 'HOST_KEY_MISMATCH':
      case 'HOST_KEY_REVOKED':
        return new TunnelError('host-key', err.message, { cause: err });
      case 'AUTH_FAILED':
      case 'IDENTITY_INVALID':
        return new TunnelError('auth', err.message, { cause: err });
      case 'EXEC_FAILED':
        return new TunnelError('ppp', err.message, { cause: err });
      default:
        return new TunnelError('connect', err.message, { cause: err });
    }
  }
  if (err instanceof TunError) return new TunnelError('system', err.message, { cause: err });
  if (err instanceof StateError) {
    return new TunnelError(err.code === 'ALREADY_RUNNING' ? 'busy' : 'system', err.message, {
      cause: err,
    });
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return new TunnelError('system', e.message, { cause: err });
  }
  if (e && (e as { code?: string }).code === 'CONFIG_INVALID')
    return new TunnelError('config', e.message, { cause: err });
  return new TunnelError('internal', (e as Error)?.message ?? String(err), { cause: err });
}
