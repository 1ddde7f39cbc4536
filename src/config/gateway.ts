/**
 * `gateway.yaml`: the `ts-vpn gateway` daemon, one process serving every client
 * session over a unix socket that sshd connects SSH channels to
 * (direct-streamlocal). Who connects is known from SO_PEERCRED (the SSH user's
 * uid), so the policy is keyed by user and group names. Every key is optional:
 * with no file the gateway listens on /run/ts-vpn/gateway.sock and hands every
 * user an address from 10.77.0.0/24. See docs/GATEWAY.md.
 */
import { readFile } from 'node:fs/promises';
import { type ConfigEnv, defaultConfigEnv, expandPath } from './env.js';
import { ConfigError, type ConfigIssue, Secret } from './errors.js';
import { readFarEndLink, readUsers } from './far-end.js';
import {
  checkPool,
  GATEWAY_DEFAULTS,
  type GatewayConfig,
  type GatewayPolicy,
  type GatewayPool,
  type GatewayUserSecret,
  type GatewayYaml,
  gatewaySchema,
  ip4Text,
  type PolicyYaml,
} from './gateway-schema.js';
import type { Cidr } from './net.js';
import { checkRouteList } from './routes.js';
import type { PathSegment, YamlSource } from './source.js';
import { configParser, issueCollector } from './validate.js';

export * from './gateway-schema.js';

function buildGateway(
  y: GatewayYaml,
  src: YamlSource,
  env: ConfigEnv,
): { cfg: GatewayConfig; issues: ConfigIssue[] } {
  const { issues, warnings, at } = issueCollector(src);

  // pools
  const pools: GatewayPool[] = [];
  const ranges: { first: bigint; last: bigint }[] = [];
  if (y.pool !== undefined && y.pools !== undefined)
    at(['pools'], 'give either pool (one pool) or pools (named pools), not both');
  if (y.pools !== undefined) {
    for (const [name, v] of Object.entries(y.pools)) {
      const r = checkPool(v);
      if ('error' in r) at(['pools', name], r.error);
      else {
        pools.push({
          name,
          text: r.value.text,
          first: ip4Text(r.value.first),
          last: ip4Text(r.value.last),
        });
        ranges.push(r.value);
      }
    }
    if (Object.keys(y.pools).length === 0) at(['pools'], 'lists no pool');
  } else {
    const r =
      y.pool ??
      (checkPool(GATEWAY_DEFAULTS.pool) as { value: { first: bigint; last: bigint; text: string } })
        .value;
    pools.push({ name: 'default', text: r.text, first: ip4Text(r.first), last: ip4Text(r.last) });
    ranges.push(r);
  }
  ranges.forEach((a, i) => {
    for (let j = 0; j < i; j++) {
      const b = ranges[j];
      if (a.first <= b.last && b.first <= a.last)
        at(['pools', pools[i].name], `overlaps pool ${pools[j].name} (${pools[j].text})`);
    }
  });
  const firstPool = pools[0]?.name ?? 'default';
  const localAddress = y['local-address'] ?? (ranges[0] ? ip4Text(ranges[0].first) : '10.77.0.1');

  // policies
  const fixed = new Map<string, string>();
  const policy = (
    p: PolicyYaml | undefined,
    base: PathSegment[],
    inherit: GatewayPolicy | null,
  ): GatewayPolicy => {
    const q = p ?? {};
    const routes = q.routes;
    if (routes) checkRouteList(routes, [...base, 'routes'], at);
    (q['allow-client-routes'] ?? []).forEach((c: Cidr, i: number) => {
      if (c.prefix === 0)
        at(
          [...base, 'allow-client-routes', i],
          `${c.text} would let a client take over all traffic of the gateway; list the client networks you expect`,
        );
    });
    const pool = q.pool ?? inherit?.pool ?? firstPool;
    if (q.pool !== undefined && !pools.some((pl) => pl.name === q.pool))
      at(
        [...base, 'pool'],
        `no pool named "${q.pool}"; pools are ${pools.map((pl) => pl.name).join(', ')}`,
      );
    const address = q.address ?? null;
    if (address !== null) {
      if (address === localAddress)
        at([...base, 'address'], `is the gateway's own address (local-address ${localAddress})`);
      const who = base.join('.');
      const prev = fixed.get(address);
      if (prev !== undefined) at([...base, 'address'], `${address} is already given to ${prev}`);
      else fixed.set(address, who);
    }
    const out: GatewayPolicy = {
      allow: q.allow ?? inherit?.allow ?? true,
      address,
      pool,
      routes: routes ? routes.map((c: Cidr) => c.text) : (inherit?.routes ?? []),
      allowClientRoutes: q['allow-client-routes']
        ? q['allow-client-routes'].map((c: Cidr) => c.text)
        : (inherit?.allowClientRoutes ?? []),
      dns: q.dns ?? inherit?.dns ?? [],
      // A fixed address serves one session at a time: not inherited from the defaults.
      maxSessions:
        q['max-sessions'] ??
        (address !== null ? 1 : (inherit?.maxSessions ?? GATEWAY_DEFAULTS.userMaxSessions)),
      pppAuth: q['ppp-auth'] ?? inherit?.pppAuth ?? 'none',
    };
    if (address !== null && out.maxSessions > 1)
      at(
        [...base, 'max-sessions'],
        `is ${out.maxSessions}, but a fixed address serves only one session at a time; use a pool`,
      );
    return out;
  };
  const defaults = policy(y.defaults, ['defaults'], null);
  if (defaults.address !== null)
    at(
      ['defaults', 'address'],
      'a fixed address cannot be shared by every user; give it under users',
    );
  const users = new Map<string, GatewayPolicy>();
  for (const [name, p] of Object.entries(y.users ?? {}))
    users.set(name, policy(p, ['users', name], defaults));
  const groups = new Map<string, GatewayPolicy>();
  for (const [name, p] of Object.entries(y.groups ?? {})) {
    const g = policy(p, ['groups', name], defaults);
    if (g.address !== null)
      at(
        ['groups', name, 'address'],
        'a fixed address cannot be shared by a group; give it under users',
      );
    groups.set(name, g);
  }

  // the LAN side
  const proxyArp = y['proxy-arp'] ?? false;
  const masquerade = y.masquerade ?? false;
  const lanInterface = y['lan-interface'] ?? null;
  if (proxyArp && lanInterface === null)
    at(
      ['proxy-arp'],
      'needs lan-interface: the interface on which to answer ARP for client addresses (e.g. eth0)',
    );
  if (masquerade && lanInterface === null)
    at(
      ['masquerade'],
      'needs lan-interface: the interface whose address client traffic leaves with',
    );
  if (!proxyArp && !masquerade && lanInterface !== null)
    warnings.push(
      'lan-interface is set but neither proxy-arp nor masquerade is on: it is not used',
    );

  // PPP authentication secrets
  const a = y.auth ?? {};
  const secrets: GatewayUserSecret[] = readUsers(a.users, at, env);
  const wantsAuth = [defaults, ...users.values(), ...groups.values()].some(
    (p) => p.pppAuth !== 'none',
  );
  if (wantsAuth && secrets.length === 0)
    at(
      ['auth', 'users'],
      'ppp-auth is asked for but no secrets are listed; add users: [{ user: alice, password-file: /etc/ts-vpn/alice.secret }]',
    );

  const link = readFarEndLink(y, GATEWAY_DEFAULTS, env, warnings);

  const modeText = y.socket?.mode;
  const cfg: GatewayConfig = {
    kind: 'gateway',
    source: src.name,
    socket: {
      path:
        y.socket?.path !== undefined ? expandPath(y.socket.path, env) : GATEWAY_DEFAULTS.socketPath,
      group: y.socket?.group ?? null,
      mode: modeText !== undefined ? Number.parseInt(modeText, 8) : GATEWAY_DEFAULTS.socketMode,
    },
    localAddress,
    pools,
    defaults,
    unknownUsers: y['unknown-users'] ?? 'defaults',
    users,
    groups,
    maxSessions: y['max-sessions'] ?? GATEWAY_DEFAULTS.maxSessions,
    proxyArp,
    masquerade,
    forwarding: y.forwarding ?? 'check',
    lanInterface,
    interfaceName: y['interface-name'] ?? GATEWAY_DEFAULTS.interfaceName,
    ...link,
    auth: { name: a.name ?? env.hostname, users: secrets },
    runAs: { user: y['run-as']?.user ?? null, group: y['run-as']?.group ?? null },
    warnings,
  };
  if (cfg.socket.mode & 0o007)
    warnings.push(
      `socket.mode ${modeText} lets every local user connect; 0660 with socket.group limits it to that group`,
    );
  return { cfg, issues };
}

/** Parses and validates gateway.yaml text (no file access). Empty text gives the defaults. */
export const parseGatewayConfig: (
  text: string,
  sourceName: string,
  env?: ConfigEnv,
) => GatewayConfig = configParser(gatewaySchema, buildGateway);

/**
 * Reads gateway.yaml (or the defaults when `path` is null) and the PPP password
 * files it names. Throws ConfigError naming the file, line and field.
 */
export async function loadGatewayConfig(
  path: string | null,
  env: ConfigEnv = defaultConfigEnv(),
): Promise<GatewayConfig> {
  if (path === null) return parseGatewayConfig('', '(defaults)', env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [
      {
        path: '',
        message:
          code === 'ENOENT'
            ? 'file does not exist'
            : `cannot read the file (${code ?? (e as Error).message})`,
      },
    ]);
  }
  const cfg = parseGatewayConfig(text, path, env);
  const issues: ConfigIssue[] = [];
  for (const [i, u] of cfg.auth.users.entries()) {
    if (u.passwordFile === null) continue;
    try {
      u.password = new Secret((await readFile(u.passwordFile, 'utf8')).replace(/\r?\n$/, ''));
    } catch (e) {
      issues.push({
        path: `auth.users[${i}].password-file`,
        message: `${u.passwordFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(path, issues);
  return cfg;
}

/** Every policy of a config with where it stands: `defaults`, `users.NAME`, `groups.NAME`. */
export function policiesOf(c: GatewayConfig): Array<[string, GatewayPolicy]> {
  return [
    ['defaults', c.defaults],
    ...[...c.users].map(([n, p]): [string, GatewayPolicy] => [`users.${n}`, p]),
    ...[...c.groups].map(([n, p]): [string, GatewayPolicy] => [`groups.${n}`, p]),
  ];
}

/** True when some policy routes an IPv6 prefix (IPv6 forwarding is checked at start then). */
export function needsIpv6Forwarding(c: GatewayConfig): boolean {
  return policiesOf(c).some(([, p]) => p.routes.some((r) => r.includes(':')));
}

/** Every fixed client address of a config's policies (kept out of the pools). */
export function fixedAddresses(c: GatewayConfig): string[] {
  return policiesOf(c).flatMap(([, p]) => (p.address !== null ? [p.address] : []));
}

/** The policy for a user: their own entry, else their first listed group, else the defaults (or null: refused). */
export function policyFor(
  cfg: GatewayConfig,
  user: string,
  groups: readonly string[],
): { policy: GatewayPolicy; via: string } | null {
  const own = cfg.users.get(user);
  if (own) return { policy: own, via: `users.${user}` };
  for (const [g, p] of cfg.groups) if (groups.includes(g)) return { policy: p, via: `groups.${g}` };
  if (cfg.unknownUsers === 'refuse') return null;
  return { policy: cfg.defaults, via: 'defaults' };
}
