/** A human summary of a loaded config, for `ts-vpn up --check` and logs. Never prints secrets. */
import type { PeerConfig } from './peer.js';
import type { ServerConfig } from './server.js';

const s = (ms: number) => `${ms / 1000} s`;

/** The LCP echo setting as `check` prints it: `10 s x3`, or `off`. */
export function echoText(intervalMs: number, failures: number): string {
  return intervalMs ? `${s(intervalMs)} x${failures}` : 'off';
}

/** `keyboard-interactive, password (on a terminal, 3 prompts)` or `none`. */
function typedAuthText(t: PeerConfig['ssh']['typedAuth']): string {
  const methods = [t.keyboardInteractive && 'keyboard-interactive', t.password && 'password'];
  const on = methods.filter(Boolean).join(', ');
  return on ? `${on} (on a terminal, ${t.prompts} prompt${t.prompts === 1 ? '' : 's'})` : 'none';
}

/** Each effective ssh setting (SSH_SETTING_KEYS) as `ts-vpn check` prints it. */
export function sshSettingValues(ssh: PeerConfig['ssh']): Record<string, string> {
  const hk = ssh.hostKey;
  return {
    host: ssh.host === ssh.alias ? ssh.host : `${ssh.host} (for ${ssh.alias})`,
    port: String(ssh.port),
    user: ssh.user,
    'identity-files': ssh.identityFiles.join(', ') || 'none',
    agent: ssh.agent === false ? 'off' : ssh.agent,
    'host-key.known-hosts': hk.knownHostsFiles.join(', ') || 'none',
    'host-key.fingerprint': hk.fingerprints.join(', ') || 'none',
    'host-key.accept-new': hk.acceptNew ? `yes${hk.hashNew ? ' (hashed)' : ''}` : 'no',
    'host-key.alias': hk.alias ?? 'none',
    'keepalive-interval': s(ssh.keepaliveIntervalMs),
    'keepalive-count-max': String(ssh.keepaliveCountMax),
    'connect-timeout': s(ssh.connectTimeoutMs),
    ciphers: ssh.ciphers.join(','),
    jump: ssh.jump.join(', ') || 'none',
    'typed-auth': typedAuthText(ssh.typedAuth),
  };
}

/** Each effective ssh setting and where it came from (peer.yaml, an ssh_config file:line, default). */
function describeSshOrigins(cfg: PeerConfig): string[] {
  const ssh = cfg.ssh;
  const value = sshSettingValues(ssh);
  const out = [
    `  ssh settings (${ssh.config.enabled ? `ssh_config: ${ssh.config.file ?? '~/.ssh/config, /etc/ssh/ssh_config'}` : 'ssh_config not read'}):`,
  ];
  for (const [k, v] of Object.entries(value))
    out.push(`    ${k}: ${v}  [${ssh.origins[k] ?? 'default'}]`);
  return out;
}

export function describeConfig(cfg: PeerConfig | ServerConfig): string {
  const lines: string[] = [];
  if (cfg.kind === 'peer') {
    const { ssh, ppp } = cfg;
    const hk = ssh.hostKey;
    lines.push(`tunnel "${cfg.name}" (${cfg.source})`);
    if (cfg.remote.transport === 'command')
      lines.push(`  transport: local command (PPP over its stdin/stdout)`);
    else
      lines.push(
        `  ssh: ${ssh.user}@${ssh.host}:${ssh.port}, keys: ${ssh.identityFiles.length ? ssh.identityFiles.join(', ') : 'none'}, agent: ${ssh.agent === false ? 'off' : ssh.agent}${ssh.passphraseFile ? ', passphrase from file' : ''}`,
      );
    if (cfg.remote.transport === 'ssh')
      lines.push(
        `  host key: ${hk.fingerprints.length ? `pinned ${hk.fingerprints.join(', ')}` : `known_hosts ${hk.knownHostsFiles.join(', ')}`}${hk.acceptNew ? ' (accept-new)' : ''}`,
      );
    if (cfg.remote.transport === 'ssh')
      lines.push(
        `  ssh keepalive ${s(ssh.keepaliveIntervalMs)} x${ssh.keepaliveCountMax}, connect timeout ${s(ssh.connectTimeoutMs)}, ciphers ${ssh.ciphers.join(', ')}`,
      );
    if (cfg.remote.transport === 'ssh') lines.push(...describeSshOrigins(cfg));
    lines.push(
      cfg.remote.kind === 'gateway'
        ? `  remote: gateway socket ${cfg.remote.gateway} (direct-streamlocal channel)`
        : `  remote: ${cfg.remote.command} (${cfg.remote.kind}${cfg.remote.kindDetected ? ', detected' : ''})`,
    );
    lines.push(
      `  ppp: local ${ppp.localAddress ?? 'ask'} (accept ${ppp.acceptLocal.join(', ')}), peer ${ppp.peerAddress ?? 'ask'} (accept ${ppp.acceptPeer.join(', ')})`,
    );
    lines.push(
      `  ppp: mru ${ppp.mru}, accm 0x${ppp.accm.toString(16)}, echo ${echoText(ppp.echoIntervalMs, ppp.echoFailures)}, ipv6 ${ppp.ipv6 ? 'on' : 'off'}, peer dns ${ppp.usePeerDns ? `on → ${cfg.dns.writeTo}` : 'off'}${ppp.debug ? ', debug' : ''}`,
    );
    if (ppp.auth)
      lines.push(
        `  ppp auth: user ${ppp.auth.user}, password ${ppp.auth.passwordFile ? `from ${ppp.auth.passwordFile}` : 'inline'} (hidden)`,
      );
    lines.push(
      `  interface: ${cfg.tunnel.interface}${cfg.tunnel.mtu ? `, mtu ${cfg.tunnel.mtu}` : ''}${cfg.tunnel.metric !== null ? `, metric ${cfg.tunnel.metric}` : ''}`,
    );
    lines.push(
      `  routes: ${[...(cfg.defaultRoute ? ['default (host route to the SSH server kept)'] : []), ...cfg.routes].join(', ') || 'none'}`,
    );
    const rc = cfg.reconnect;
    lines.push(
      `  reconnect: ${rc.enabled ? `on, holdoff ${s(rc.holdoffMs)}, backoff up to ${s(rc.maxBackoffMs)}, ${rc.maxFail ? `give up after ${rc.maxFail} failures` : 'forever'}` : 'off'}`,
    );
    if (cfg.hooks.up || cfg.hooks.down)
      lines.push(
        `  hooks: up ${cfg.hooks.up ?? '-'}, down ${cfg.hooks.down ?? '-'} (timeout ${s(cfg.hooks.timeoutMs)})`,
      );
  } else {
    lines.push(`ts-vpn serve (${cfg.source})`);
    lines.push(
      `  addresses: server ${cfg.localAddress}, clients ${cfg.pool ? `from pool ${cfg.pool}` : cfg.peerAddress}, max ${cfg.maxSessions} session(s)`,
    );
    lines.push(`  dns offered: ${cfg.dns.join(', ') || 'none'}`);
    lines.push(
      `  routes to clients: ${cfg.routes.join(', ') || 'none'}; client routes allowed: ${cfg.allowClientRoutes.join(', ') || 'none'}`,
    );
    lines.push(
      `  ppp: mru ${cfg.mru}, echo ${echoText(cfg.echoIntervalMs, cfg.echoFailures)}, ipv6 ${cfg.ipv6 ? 'on' : 'off'}${cfg.debug ? ', debug' : ''}`,
    );
    lines.push(
      `  auth: ${cfg.auth.require}${cfg.auth.require !== 'none' ? ` as "${cfg.auth.name}", users: ${cfg.auth.users.map((u) => u.user).join(', ')}` : ''}`,
    );
    lines.push(`  state dir: ${cfg.stateDir}`);
  }
  for (const w of cfg.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
