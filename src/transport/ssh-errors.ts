/**
 * What went wrong while connecting, as OpenSSH would say it: `Connection refused`,
 * `Could not resolve hostname`, `Permission denied (publickey,password). Tried: …`.
 */
import type { AuthenticationType } from 'ssh2';
import { TransportError } from './errors.js';

/** A connect failure (ssh2 error with its level) as a TransportError naming the cause. */
export function mapConnectError(
  err: Error & { level?: string; code?: string },
  ctx: {
    host: string;
    readyTimeoutMs: number | undefined;
    port: number;
    remote: string;
    stage: string;
    hostKeyError: TransportError | null;
    tried: string[];
    serverAllows: AuthenticationType[] | null;
    /** A prompter was there to ask for passwords (stdin a TTY). */
    prompted: boolean;
    /** The user cancelled the prompt. */
    cancelled: boolean;
    agentSock: string | undefined;
  },
): TransportError {
  if (ctx.hostKeyError) return ctx.hostKeyError;
  const where = `connect to host ${ctx.host} port ${ctx.port}`;
  if (err.level === 'client-socket' || err.level === 'client-dns') {
    switch (err.code) {
      case 'ECONNREFUSED':
        return new TransportError('CONNECT_REFUSED', `ssh: ${where}: Connection refused`, {
          cause: err,
        });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_NONAME':
      case 'EAI_NODATA':
        return new TransportError(
          'DNS',
          `ssh: Could not resolve hostname ${ctx.host}: ${err.message}`,
          { cause: err },
        );
      case 'ETIMEDOUT':
        return new TransportError('CONNECT_TIMEOUT', `ssh: ${where}: Connection timed out`, {
          cause: err,
        });
      default:
        if (err.level === 'client-dns')
          return new TransportError(
            'DNS',
            `ssh: Could not resolve hostname ${ctx.host}: ${err.message}`,
            { cause: err },
          );
        return new TransportError('CONNECT_FAILED', `ssh: ${where}: ${err.message}`, {
          cause: err,
        });
    }
  }
  if (err.level === 'client-timeout') {
    return new TransportError(
      'CONNECT_TIMEOUT',
      `ssh: ${where}: timed out after ${ctx.readyTimeoutMs ?? 20_000} ms during ${ctx.stage}`,
      { cause: err },
    );
  }
  if (err.level === 'client-authentication') {
    const allows = ctx.serverAllows ? ctx.serverAllows.join(',') : 'unknown';
    const tried =
      ctx.tried.length > 0
        ? ctx.tried.join('; ')
        : 'nothing (no identity files loaded and no ssh-agent)';
    const typed =
      ctx.serverAllows?.some((m) => m === 'password' || m === 'keyboard-interactive') ?? false;
    let hint = '';
    if (ctx.cancelled) hint = ' The password prompt was cancelled';
    else if (typed && !ctx.prompted)
      hint =
        ' The server also takes a password (or keyboard-interactive), but there is no terminal to ask on (stdin is not a TTY): run `ts-vpn up` from a terminal to be asked, or authorize a key for this user on the server (ssh-copy-id)';
    else if (ctx.tried.includes('password') || ctx.tried.includes('keyboard-interactive'))
      hint = ' Wrong password (or answers)?';
    return new TransportError(
      'AUTH_FAILED',
      `${ctx.remote}: Permission denied (${allows}). Tried: ${tried}.${hint}`,
      { cause: err },
    );
  }
  return new TransportError('SSH_ERROR', `ssh ${ctx.remote}: ${err.message}`, { cause: err });
}
