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
    const wantsPassword =
      ctx.serverAllows !== null &&
      !ctx.serverAllows.includes('publickey') &&
      ctx.serverAllows.some((m) => m === 'password' || m === 'keyboard-interactive');
    return new TransportError(
      'AUTH_FAILED',
      `${ctx.remote}: Permission denied (${allows}). Tried: ${tried}.${
        wantsPassword
          ? ' The server asks for a password (or keyboard-interactive) only; ts-vpn does not prompt for SSH passwords: authorize a key for this user on the server'
          : ''
      }`,
      { cause: err },
    );
  }
  return new TransportError('SSH_ERROR', `ssh ${ctx.remote}: ${err.message}`, { cause: err });
}
