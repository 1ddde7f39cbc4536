/** Cross-field checks and defaults of `peer.yaml`: the validated YAML → {@link PeerConfig}. */
import { basename, join, normalize } from 'node:path';
import { type ConfigEnv, expandPath } from './env.js';
import { type ConfigIssue, Secret } from './errors.js';
import { type Cidr, cidrContainsAddress, PRIVATE_IPV4_RANGES, parseIp } from './net.js';
import { NAME_RE } from './peer-checks.js';
import { PEER_DEFAULTS, SSH_SETTING_KEYS } from './peer-defaults.js';
import type { PeerYaml } from './peer-schema.js';
import type { PeerConfig } from './peer-types.js';
import { detectRemoteKind, detectWrappedKind } from './remote-kind.js';
import { checkRouteList, checkRoutesAgainstHost } from './routes.js';
import type { YamlSource } from './source.js';
import { issueCollector } from './validate.js';

/** The system resolver file: `dns.write-to` naming it (or a link to it) gets a warning. */
export const SYSTEM_RESOLV_CONF = '/etc/resolv.conf';

/** The warning for `dns.write-to` at the system resolver file (see docs/CONFIG.md, `dns`). */
export function systemResolverWarning(writeTo: string, system = SYSTEM_RESOLV_CONF): string {
  return `dns.write-to is ${writeTo === system ? writeTo : `${writeTo} (that is ${system})`}: ts-vpn up replaces the system resolver file, so every program on this host resolves names through the far end's DNS servers while the tunnel is up; if that is not what you want, remove write-to (the default, <state dir>/<name>/resolv.conf, changes nothing by itself)`;
}

/** Default tunnel name from the file name: `office.yaml` → `office`; otherwise `default`. */
export function nameFromSource(source: string): string | null {
  const m = /^(.*)\.ya?ml$/i.exec(basename(source));
  if (!m) return 'default';
  const n = m[1].toLowerCase();
  return NAME_RE.test(n) ? n : null;
}

function cidrTexts(v: Cidr[] | undefined): string[] | undefined {
  return v?.map((c) => c.text);
}

/** Cross-field checks and defaults; `issues` collects problems. */
export function buildPeer(
  y: PeerYaml,
  src: YamlSource,
  env: ConfigEnv,
): { cfg: PeerConfig; issues: ConfigIssue[] } {
  const { issues, warnings, at } = issueCollector(src);

  // name
  let name = y.name;
  if (name === undefined) {
    const derived = nameFromSource(src.name);
    if (derived === null) {
      at(
        [],
        `cannot derive a tunnel name from the file name "${basename(src.name)}"; add name: <a-z, 0-9, ->`,
      );
      name = 'default';
    } else name = derived;
  }

  // ssh
  const ssh = y.ssh ?? {};
  const transport = y.remote?.transport ?? 'ssh';
  if (transport === 'command') {
    if (y.remote?.command === undefined)
      at(
        ['remote'],
        'command is required with transport: command (the local program that speaks PPP on its stdin/stdout, e.g. "ssh -T gw sudo ts-vpn serve")',
      );
    if (y.ssh !== undefined)
      warnings.push(
        'the ssh section is not used with remote.transport: command (the command makes its own connection)',
      );
    if (y['default-route'])
      warnings.push(
        "default-route with remote.transport: command keeps no host route outside the tunnel: make sure the command's own traffic (e.g. its ssh connection) does not go through the tunnel",
      );
  } else if (ssh.host !== undefined) {
    ssh.host.forEach((h, i) => {
      if (ssh.host!.indexOf(h) !== i) at(['ssh', 'host', i], `"${h}" is listed twice`);
    });
  } else if (ssh.host === undefined)
    at(
      y.ssh ? ['ssh'] : [],
      y.ssh
        ? 'host is required (the SSH server to connect to)'
        : 'ssh.host is required (the SSH server to connect to)',
    );
  const hk = ssh['host-key'] ?? {};
  let agent: string | false;
  if (ssh.agent === undefined) agent = env.sshAuthSock ?? false;
  else if (ssh.agent === true) {
    if (!env.sshAuthSock) {
      at(
        ['ssh', 'agent'],
        'is true but SSH_AUTH_SOCK is not set (sudo drops it); give the socket path, or use sudo --preserve-env=SSH_AUTH_SOCK, or set agent: false',
      );
    }
    agent = env.sshAuthSock ?? false;
  } else if (ssh.agent === false) agent = false;
  else agent = expandPath(ssh.agent, env);

  // remote
  const command = y.remote?.command ?? PEER_DEFAULTS.remoteCommand;
  // A local command usually wraps the far end's (`ssh -T gw sudo pppd …`, `ip netns exec …`).
  const detected = transport === 'command' ? detectWrappedKind(command) : detectRemoteKind(command);
  const gatewayPath = y.remote?.gateway ?? null;
  const remoteKind = y.remote?.kind ?? (gatewayPath !== null ? 'gateway' : (detected ?? 'ts-vpn'));
  if (gatewayPath !== null && remoteKind !== 'gateway')
    at(
      ['remote', 'kind'],
      `is ${remoteKind}, but remote.gateway is set; use kind: gateway or drop gateway`,
    );
  if (remoteKind === 'gateway' && y.remote?.command !== undefined)
    at(
      ['remote', 'command'],
      'is not used with a gateway (the SSH channel connects to its socket); remove it',
    );
  if (y.remote?.['client-routes'] !== undefined && remoteKind !== 'gateway')
    at(
      ['remote', 'client-routes'],
      'is only for a gateway; for ts-vpn serve put --client-route PREFIX in remote.command',
    );
  if (remoteKind === 'gateway' && transport === 'command')
    at(['remote', 'transport'], 'must be ssh with a gateway (the socket is reached over SSH)');
  if (y.remote?.kind === undefined && gatewayPath === null && detected === null) {
    warnings.push(
      `remote.command "${command}" does not start ts-vpn or pppd; assuming kind: ts-vpn (set remote.kind to be explicit)`,
    );
  }

  // ppp
  const ppp = y.ppp ?? {};
  const localAddress = ppp['local-address'] ?? null;
  const peerAddress = ppp['peer-address'] ?? null;
  const acceptLocal =
    cidrTexts(ppp['accept-local']) ??
    (localAddress ? [`${localAddress}/32`] : [...PRIVATE_IPV4_RANGES]);
  const acceptPeer =
    cidrTexts(ppp['accept-peer']) ??
    (peerAddress ? [`${peerAddress}/32`] : [...PRIVATE_IPV4_RANGES]);
  const inAny = (addr: string, list: Cidr[]) => {
    const ip = parseIp(addr);
    return 'value' in ip && list.some((c) => cidrContainsAddress(c, ip.value));
  };
  if (localAddress && ppp['accept-local'] && !inAny(localAddress, ppp['accept-local'])) {
    at(
      ['ppp', 'accept-local'],
      `does not contain ppp.local-address ${localAddress}; add ${localAddress}/32 or change local-address`,
    );
  }
  if (peerAddress && ppp['accept-peer'] && !inAny(peerAddress, ppp['accept-peer'])) {
    at(
      ['ppp', 'accept-peer'],
      `does not contain ppp.peer-address ${peerAddress}; add ${peerAddress}/32 or change peer-address`,
    );
  }
  if (localAddress && peerAddress && localAddress === peerAddress)
    at(
      ['ppp', 'peer-address'],
      `is the same as ppp.local-address (${localAddress}); the two ends need different addresses`,
    );
  for (const key of ['accept-local', 'accept-peer'] as const) {
    (ppp[key] ?? []).forEach((c, i) => {
      if (c.prefix === 0)
        at(
          ['ppp', key, i],
          `${c.text} would accept any address, including public ones the peer could use to capture your traffic; list the ranges you expect (e.g. 10.77.0.0/24)`,
        );
    });
  }
  let auth: PeerConfig['ppp']['auth'] = null;
  if (ppp.auth) {
    const a = ppp.auth;
    if (a.user === undefined) at(['ppp', 'auth'], 'user is required when auth is given');
    if (a.password !== undefined && a['password-file'] !== undefined)
      at(['ppp', 'auth', 'password-file'], 'give either password or password-file, not both');
    if (a.password === undefined && a['password-file'] === undefined)
      at(['ppp', 'auth'], 'needs password-file (recommended) or password');
    auth = {
      user: a.user ?? '',
      password: a.password !== undefined ? secret(a.password) : null,
      passwordFile: a['password-file'] !== undefined ? expandPath(a['password-file'], env) : null,
    };
  }
  // Only when the command really starts pppd: with kind: pppd and a relay such as
  // `socat - UNIX-CONNECT:…`, pppd's options are not on this command line at all.
  if (remoteKind === 'pppd' && detected === 'pppd') {
    const words = command.split(/\s+/);
    if (!words.includes('notty'))
      warnings.push(
        'remote.command runs pppd without "notty"; over an SSH exec channel pppd must use stdin/stdout (add notty)',
      );
    if (!words.includes('noauth') && !auth) {
      warnings.push(
        'remote.command runs pppd without "noauth" and ppp.auth is not set; pppd 2.4.9 demands authentication when the server has a default route',
      );
    }
  }
  const usePeerDns = ppp['use-peer-dns'] ?? false;
  const stateRoot = env.stateRoot ?? PEER_DEFAULTS.stateRoot;
  const writeTo =
    y.dns?.['write-to'] !== undefined
      ? expandPath(y.dns['write-to'], env)
      : join(stateRoot, name, 'resolv.conf');
  if (y.dns?.['write-to'] !== undefined) {
    if (!usePeerDns)
      warnings.push(
        'dns.write-to is set but ppp.use-peer-dns is false: no DNS servers are asked for, nothing is written there',
      );
    else if (normalize(writeTo) === SYSTEM_RESOLV_CONF)
      warnings.push(systemResolverWarning(writeTo));
  }
  const ipv6 = ppp.ipv6 ?? true;
  const mtu = y.tunnel?.mtu ?? null;
  if (ipv6 && mtu !== null && mtu < 1280)
    warnings.push(
      `tunnel.mtu ${mtu} is below IPv6's minimum 1280: IPv6 will not come up (set ppp.ipv6: false to silence this)`,
    );
  if (ipv6 && (ppp.mru ?? PEER_DEFAULTS.mru) < 1280)
    warnings.push(`ppp.mru ${ppp.mru} is below IPv6's minimum 1280: IPv6 will not come up`);

  // routes
  const routes = y.routes ?? [];
  const defaultRoute = y['default-route'] ?? false;
  checkRouteList(routes, ['routes'], at);
  // With jump hosts the TCP connection goes to the first one (loadPeerConfig checks that).
  const hostIps =
    transport === 'ssh' && !(ssh.jump ?? []).length
      ? (ssh.host ?? []).map((h) => parseIp(h)).flatMap((r) => ('value' in r ? [r.value.text] : []))
      : [];
  if (hostIps.length > 0) checkRoutesAgainstHost(routes, defaultRoute, hostIps, at);

  // reconnect
  const rc = y.reconnect ?? {};
  const holdoffMs = rc.holdoff ?? PEER_DEFAULTS.holdoff * 1000;
  const maxBackoffMs = rc['max-backoff'] ?? PEER_DEFAULTS.maxBackoff * 1000;
  if (maxBackoffMs < holdoffMs)
    at(
      ['reconnect', 'max-backoff'],
      `(${maxBackoffMs / 1000} s) is shorter than reconnect.holdoff (${holdoffMs / 1000} s)`,
    );

  // Which ssh keys peer.yaml sets (they win over ssh_config), and where.
  const given: string[] = [];
  const origins: Record<string, string> = {};
  for (const key of SSH_SETTING_KEYS) {
    const p = ['ssh', ...key.split('.')];
    let v: unknown = y;
    for (const seg of p) v = (v as Record<string, unknown> | undefined)?.[seg];
    if (v !== undefined) {
      given.push(key);
      origins[key] = `${src.name}:${src.lineOf(p) ?? '?'}`;
    } else origins[key] = 'default';
  }

  const cfg: PeerConfig = {
    kind: 'peer',
    source: src.name,
    name,
    ssh: {
      host: ssh.host?.[0] ?? '',
      alias: ssh.host?.[0] ?? '',
      port: ssh.port ?? PEER_DEFAULTS.sshPort,
      user: ssh.user ?? env.user,
      identityFiles: (ssh['identity-files'] ?? [...PEER_DEFAULTS.identityFiles]).map((p) =>
        expandPath(p, env),
      ),
      identityFilesExplicit: ssh['identity-files'] !== undefined,
      agent,
      hostKey: {
        knownHostsFiles: (hk['known-hosts'] ?? [PEER_DEFAULTS.knownHosts]).map((p) =>
          expandPath(p, env),
        ),
        fingerprints: hk.fingerprint ?? [],
        acceptNew: hk['accept-new'] ?? false,
        ...(hk.alias !== undefined ? { alias: hk.alias } : {}),
      },
      keepaliveIntervalMs: ssh['keepalive-interval'] ?? PEER_DEFAULTS.keepaliveInterval * 1000,
      keepaliveCountMax: ssh['keepalive-count-max'] ?? PEER_DEFAULTS.keepaliveCountMax,
      connectTimeoutMs: ssh['connect-timeout'] ?? PEER_DEFAULTS.connectTimeout * 1000,
      ciphers: ssh.ciphers ?? [...PEER_DEFAULTS.ciphers],
      typedAuth: { password: true, keyboardInteractive: true, prompts: 3 },
      passphraseFile:
        ssh['passphrase-file'] !== undefined ? expandPath(ssh['passphrase-file'], env) : null,
      passphrase: null,
      jump: ssh.jump ?? [],
      client: ssh.client ?? 'ssh2',
      hops: null,
      config: {
        enabled: ssh.config ?? true,
        file: ssh['config-file'] !== undefined ? expandPath(ssh['config-file'], env) : null,
      },
      given,
      origins,
      notes: [],
      alternates: [],
    },
    remote: {
      transport,
      command,
      kind: remoteKind,
      kindDetected: y.remote?.kind === undefined,
      gateway: remoteKind === 'gateway' ? (gatewayPath ?? '/run/ts-vpn/gateway.sock') : null,
      clientRoutes: cidrTexts(y.remote?.['client-routes']) ?? [],
    },
    ppp: {
      localAddress,
      peerAddress,
      acceptLocal,
      acceptPeer,
      mru: ppp.mru ?? PEER_DEFAULTS.mru,
      accm: ppp.accm ?? PEER_DEFAULTS.accm,
      echoIntervalMs: ppp['echo-interval'] ?? PEER_DEFAULTS.echoInterval * 1000,
      echoFailures: ppp['echo-failures'] ?? PEER_DEFAULTS.echoFailures,
      ipv6,
      usePeerDns,
      auth,
      debug: ppp.debug ?? false,
      restartMs: ppp.restart ?? PEER_DEFAULTS.restart * 1000,
      maxConfigure: ppp['max-configure'] ?? PEER_DEFAULTS.maxConfigure,
      maxTerminate: ppp['max-terminate'] ?? PEER_DEFAULTS.maxTerminate,
      maxFailure: ppp['max-failure'] ?? PEER_DEFAULTS.maxFailure,
    },
    tunnel: {
      interface: y.tunnel?.interface ?? PEER_DEFAULTS.interface,
      mtu,
      metric: y.tunnel?.metric ?? null,
      offload: y.tunnel?.offload ?? true,
      user: y.tunnel?.user ?? null,
      group: y.tunnel?.group ?? null,
    },
    routes: routes.map((c) => c.text),
    defaultRoute,
    dns: { writeTo },
    reconnect: {
      enabled: rc.enabled ?? true,
      holdoffMs,
      maxBackoffMs,
      maxFail: rc['max-fail'] ?? 0,
      onRefusal: rc['on-refusal'] ?? 'stop',
    },
    hooks: {
      up: y.hooks?.up ?? null,
      down: y.hooks?.down ?? null,
      timeoutMs: y.hooks?.timeout ?? PEER_DEFAULTS.hookTimeout * 1000,
    },
    warnings,
  };
  cfg.ssh.alternates = (ssh.host ?? []).slice(1).map((h) => ({
    ...cfg.ssh,
    host: h,
    alias: h,
    hostKey: { ...cfg.ssh.hostKey },
    typedAuth: { ...cfg.ssh.typedAuth },
    origins: { ...cfg.ssh.origins },
    notes: [],
    alternates: [],
  }));
  return { cfg, issues };
}

function secret(v: string): Secret {
  return new Secret(v);
}
