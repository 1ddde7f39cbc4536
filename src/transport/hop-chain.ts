/**
 * Jump hosts (OpenSSH ProxyJump / `ssh -J`): each hop is its own ssh2 connection, made
 * through the previous hop's forwarded `direct-tcpip` channel, with its own host key
 * check against known_hosts and its own keepalive. A failure names the hop:
 * `jump host 2 of 2 (bastion): host key mismatch`.
 */
import type { SshHop } from '../config/peer-types.js';
import { TransportError } from './errors.js';
import { SshConnection, type SshConnectOptions } from './ssh.js';

/** Short reasons for the hop error's first line. */
const SHORT: Partial<Record<TransportError['code'], string>> = {
  HOST_KEY_MISMATCH: 'host key mismatch',
  HOST_KEY_UNKNOWN: 'host key unknown',
  HOST_KEY_REVOKED: 'host key revoked',
  AUTH_FAILED: 'authentication failed',
  IDENTITY_INVALID: 'identity file unusable',
  CONNECT_REFUSED: 'connection refused',
  CONNECT_TIMEOUT: 'connection timed out',
  CONNECT_FAILED: 'cannot connect',
  DNS: 'host name does not resolve',
};

/** `jump host 1 of 2 (bastion)`. */
export function hopLabel(i: number, n: number, hop: { spec: string }): string {
  return `jump host ${i + 1} of ${n} (${hop.spec})`;
}

export interface ChainOptions {
  /** Settings shared by every hop that the hop's own settings lack (log, debug, password prompter, abort). */
  common: Pick<SshConnectOptions, 'log' | 'debug' | 'prompter' | 'signal'>;
  /** The passphrase for identity files (peer-wide, never logged). */
  passphrase?: string;
}

/**
 * Connects through `hops` (first hop first) and then to `target`; returns the target
 * connection, which ends the hops below it when it ends. On failure everything opened
 * is closed and the error names the hop.
 */
export async function connectChain(
  hops: SshHop[],
  target: SshConnectOptions,
  opts: ChainOptions,
): Promise<SshConnection> {
  let via: SshConnection | undefined;
  const n = hops.length;
  try {
    for (let i = 0; i < n; i++) {
      const hop = hops[i];
      const label = hopLabel(i, n, hop);
      try {
        via = await SshConnection.connect({
          ...opts.common,
          host: hop.host,
          port: hop.port,
          user: hop.user,
          identities: hop.identityFiles.map((path) => ({ path, passphrase: opts.passphrase })),
          agent: hop.agent,
          hostKey: hop.hostKey,
          keepaliveIntervalMs: hop.keepaliveIntervalMs,
          keepaliveCountMax: hop.keepaliveCountMax,
          readyTimeoutMs: hop.connectTimeoutMs,
          ciphers: hop.ciphers,
          typedAuth: hop.typedAuth,
          via,
          label,
          log: opts.common.log ? (m) => opts.common.log!(`${label}: ${m}`) : undefined,
        });
      } catch (err) {
        throw named(err, label);
      }
    }
    return await SshConnection.connect({ ...target, via });
  } catch (err) {
    await via?.end();
    throw err;
  }
}

function named(err: unknown, label: string): TransportError {
  if (err instanceof TransportError) {
    const short = SHORT[err.code];
    return new TransportError(
      err.code,
      `${label}: ${short ? `${short}\n${err.message}` : err.message}`,
      { cause: err },
    );
  }
  return new TransportError('SSH_ERROR', `${label}: ${(err as Error).message}`, { cause: err });
}
