/**
 * The channel to a `ts-vpn gateway`: OpenSSH's `direct-streamlocal@openssh.com`
 * (what `ssh -L local.sock:/run/ts-vpn/gateway.sock` uses). sshd connects the
 * channel straight to the gateway's unix socket: no process runs on the server
 * for the session, and the gateway learns the SSH user from SO_PEERCRED.
 */
import type { ClientChannel } from 'ssh2';
import { TransportError } from './errors.js';
import type { SshConnection } from './ssh.js';
import { SshTransport } from './ssh-channel.js';

/** RFC 4254 §5.1 reason codes. */
const SSH_OPEN_ADMINISTRATIVELY_PROHIBITED = 1;
const SSH_OPEN_CONNECT_FAILED = 2;

/** Turns a channel-open failure into a message that says what to do. */
export function streamLocalError(
  err: Error & { reason?: number },
  remote: string,
  path: string,
): TransportError {
  const desc = err.message.replace(/^\(SSH\) Channel open failure: /, '');
  if (err.reason === SSH_OPEN_ADMINISTRATIVELY_PROHIBITED)
    return new TransportError(
      'EXEC_FAILED',
      `ssh ${remote}: the server's administrator forbids stream-local forwarding for this user, so the gateway socket ${path} cannot be reached (sshd said "administratively prohibited: ${desc}"; it needs AllowStreamLocalForwarding yes in sshd_config, and no "restrict" or "no-port-forwarding" on this key in authorized_keys)`,
      { cause: err },
    );
  if (err.reason === SSH_OPEN_CONNECT_FAILED)
    // OpenSSH (verified here) answers both a refused forwarding (AllowStreamLocalForwarding
    // no, restrict / no-port-forwarding in authorized_keys) and a socket it cannot connect
    // to with this same reason and text: name both causes.
    return new TransportError(
      'EXEC_FAILED',
      `ssh ${remote}: sshd could not connect the channel to the gateway socket ${path} (${desc}): either ts-vpn gateway is not running there or this user may not open the socket (not in its group), or the server's administrator forbids stream-local forwarding for this user (AllowStreamLocalForwarding no, or restrict / no-port-forwarding in authorized_keys); the server's sshd log says which ("refused streamlocal port forward")`,
      { cause: err },
    );
  return new TransportError(
    'EXEC_FAILED',
    `ssh ${remote}: cannot open a channel to ${path}: ${desc}`,
    {
      cause: err,
    },
  );
}

/**
 * The line a client writes before its first PPP frame to claim networks behind it
 * (`remote.client-routes`); the gateway routes each one to the session only when it lies
 * inside the user's `allow-client-routes`. A PPP frame starts with 0x7e or 0xff, so a
 * gateway tells the line apart from PPP; a peer that is not a gateway never sees it.
 */
export const CLAIM_PREFIX = 'ts-vpn claim';

export function claimLine(routes: readonly string[]): string {
  return `${CLAIM_PREFIX} ${routes.join(' ')}\n`;
}

/** Opens the gateway channel on an authenticated connection; the transport owns the connection. */
export function openGatewayChannel(
  conn: SshConnection,
  path: string,
  opts: { closeGraceMs?: number; clientRoutes?: readonly string[] } = {},
): Promise<SshTransport> {
  return new Promise((resolve, reject) => {
    try {
      conn.client.openssh_forwardOutStreamLocal(
        path,
        (err: Error | undefined, channel: ClientChannel) => {
          if (err) return reject(streamLocalError(err, conn.info.remote, path));
          // Before anything else on the channel: the claim line, then PPP.
          if (opts.clientRoutes?.length) channel.write(claimLine(opts.clientRoutes));
          // The connection's last-error slot (private in ssh.ts, kept there by h16's code):
          // the transport reports why the connection died through it.
          const lastError = (conn as unknown as { lastError: { err: Error | null } }).lastError;
          resolve(
            new SshTransport(
              conn,
              channel,
              `streamlocal:${path}`,
              true,
              opts.closeGraceMs ?? 200,
              lastError,
            ),
          );
        },
      );
    } catch (err) {
      reject(streamLocalError(err as Error, conn.info.remote, path));
    }
  });
}
