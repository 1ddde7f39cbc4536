/**
 * `ssh.client: openssh`: the system `ssh` binary as the transport, through the local
 * command transport: `ssh -T -o BatchMode=yes … host command`. OpenSSH then does the
 * whole connection with the user's own setup (ssh_config including Match exec and
 * ProxyCommand, FIDO keys, certificates, Kerberos, ControlMaster); peer.yaml keys that
 * were set are passed as options. Under sudo it runs as the invoking user, with their
 * home, so their ~/.ssh and agent are the ones used.
 */
import { readFileSync } from 'node:fs';
import type { PeerConfig } from '../config/peer.js';
import { CommandTransport } from './command.js';

/** The argv for the system ssh (no shell involved; the remote command is one argument). */
export function opensshArgv(cfg: PeerConfig, sshPath = 'ssh'): string[] {
  const ssh = cfg.ssh;
  const given = new Set(ssh.given);
  const o = (k: string, v: string | number) => ['-o', `${k}=${v}`];
  const argv = [sshPath, '-T', '-e', 'none', ...o('BatchMode', 'yes')];
  if (!ssh.config.enabled) argv.push('-F', 'none');
  else if (ssh.config.file) argv.push('-F', ssh.config.file);
  if (given.has('port')) argv.push('-p', String(ssh.port));
  if (given.has('user')) argv.push('-l', ssh.user);
  if (given.has('identity-files')) for (const f of ssh.identityFiles) argv.push('-i', f);
  if (given.has('agent') && ssh.agent === false) argv.push(...o('IdentityAgent', 'none'));
  else if (given.has('agent') && ssh.agent) argv.push(...o('IdentityAgent', ssh.agent));
  if (given.has('host-key.known-hosts'))
    argv.push(...o('UserKnownHostsFile', ssh.hostKey.knownHostsFiles.join(' ')));
  if (given.has('host-key.accept-new'))
    argv.push(...o('StrictHostKeyChecking', ssh.hostKey.acceptNew ? 'accept-new' : 'yes'));
  if (given.has('host-key.alias') && ssh.hostKey.alias)
    argv.push(...o('HostKeyAlias', ssh.hostKey.alias));
  if (given.has('keepalive-interval') || !ssh.origins['keepalive-interval']?.includes(':'))
    argv.push(...o('ServerAliveInterval', Math.round(ssh.keepaliveIntervalMs / 1000)));
  if (given.has('keepalive-count-max'))
    argv.push(...o('ServerAliveCountMax', ssh.keepaliveCountMax));
  if (given.has('connect-timeout'))
    argv.push(...o('ConnectTimeout', Math.round(ssh.connectTimeoutMs / 1000)));
  if (given.has('ciphers')) argv.push('-c', ssh.ciphers.join(','));
  if (given.has('jump')) argv.push('-J', ssh.jump.length ? ssh.jump.join(',') : 'none');
  argv.push('--', ssh.alias, cfg.remote.command);
  return argv;
}

/** The invoking user under sudo (root running for $SUDO_UID), else null. */
function sudoUser(): { uid: number; gid: number; home: string; name: string } | null {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  if (process.getuid?.() !== 0 || !Number.isInteger(uid) || uid <= 0) return null;
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (Number(f[2]) === uid && f[5])
      return { uid, gid: Number.isInteger(gid) ? gid : Number(f[3]), home: f[5], name: f[0] };
  }
  return null;
}

/** Starts the system ssh as the transport. */
export function startOpenssh(cfg: PeerConfig): Promise<CommandTransport> {
  const argv = opensshArgv(cfg);
  const user = sudoUser();
  const env = user
    ? { ...process.env, HOME: user.home, USER: user.name, LOGNAME: user.name }
    : process.env;
  return CommandTransport.start({
    command: argv,
    env,
    ...(user ? { uid: user.uid, gid: user.gid, cwd: user.home } : {}),
  });
}
