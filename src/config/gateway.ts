/**
 * `gateway.yaml`: the `ts-vpn gateway` daemon, one process serving every client
 * session over a unix socket that sshd connects SSH channels to
 * (direct-streamlocal). Who connects is known from SO_PEERCRED (the SSH user's
 * uid), so the policy is keyed by user and group names. Every key is optional:
 * with no file the gateway listens on /run/ts-vpn/gateway.sock and hands every
 * user an address from 10.77.0.0/24. See docs/GATEWAY.md.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ENGINE_DEFAULTS } from '../engine/defaults.js';
import { formatIpv4, parseIpv4 as parseIpv4Number } from '../wire/ip.js';
import { type ConfigEnv, defaultConfigEnv, expandPath } from './env.js';
import { ConfigError, type ConfigIssue, Secret } from './errors.js';
import {
  checkBool,
  checkCidr,
  checkEnum,
  checkInt,
  checkIpv4,
  checkSeconds,
  checkSecret,
  checkString,
  describeValue,
  field,
  list,
  section,
} from './fields.js';
import { CONFIG_MRU_RANGE } from './limits.js';
import { type Cidr, parseCidr, parseIpv4 } from './net.js';
import { checkRouteList } from './routes.js';
import type { PathSegment, YamlSource } from './source.js';
import { parseConfigText } from './validate.js';

/** What one user (or group, or everyone else) gets. */
export interface GatewayPolicy {
  /** false: refused (LCP Terminate with a reason). */
  allow: boolean;
  /** A fixed client address, or null to take one from `pool`. */
  address: string | null;
  /** Name of the pool (a key of `pools`). */
  pool: string;
  /** Prefixes routed towards this client's session. */
  routes: string[];
  /** Prefixes the client may claim as its own networks. */
  allowClientRoutes: string[];
  /** DNS servers offered (RFC 1877), at most 2. */
  dns: string[];
  /** Concurrent sessions of one user. */
  maxSessions: number;
  /** PPP authentication on top of SSH's (secrets in `auth.users`). */
  pppAuth: 'none' | 'pap' | 'chap';
}

/** An address range handed out in memory (first..last, both included). */
export interface GatewayPool {
  name: string;
  /** As written: `10.77.0.0/24` or `192.168.1.200-192.168.1.239`. */
  text: string;
  first: string;
  last: string;
}

export interface GatewayUserSecret {
  user: string;
  password: Secret | null;
  passwordFile: string | null;
}

export interface GatewayConfig {
  kind: 'gateway';
  source: string;
  socket: { path: string; group: string | null; mode: number };
  /** The gateway's own PPP address, on every session's interface. */
  localAddress: string;
  pools: GatewayPool[];
  defaults: GatewayPolicy;
  unknownUsers: 'defaults' | 'refuse';
  users: Map<string, GatewayPolicy>;
  /** In file order: the first group a user belongs to decides. */
  groups: Map<string, GatewayPolicy>;
  maxSessions: number;
  proxyArp: boolean;
  masquerade: boolean;
  forwarding: 'enable' | 'check';
  lanInterface: string | null;
  interfaceName: string;
  mru: number;
  echoIntervalMs: number;
  echoFailures: number;
  ipv6: boolean;
  offload: boolean;
  auth: { name: string; users: GatewayUserSecret[] };
  debug: boolean;
  stateDir: string;
  warnings: string[];
}

export const GATEWAY_DEFAULTS = {
  socketPath: '/run/ts-vpn/gateway.sock',
  socketMode: 0o660,
  pool: '10.77.0.0/24',
  maxSessions: 1024,
  userMaxSessions: 4,
  interfaceName: 'tsvg%d',
  mru: ENGINE_DEFAULTS.lcp.mru,
  echoInterval: 10,
  echoFailures: ENGINE_DEFAULTS.lcp.echoFailures,
  stateDir: '/run/ts-vpn',
} as const;

const checkMode = checkString({
  what: 'a file mode like "0660"',
  pattern: /^0?[0-7]{3}$/,
  patternHelp: 'is not an octal mode like "0660" (quote it)',
});

/** A pool: a CIDR (network and broadcast skipped) or a range `first-last`. */
function checkPool(
  v: unknown,
): { value: { first: bigint; last: bigint; text: string } } | { error: string } {
  if (typeof v !== 'string')
    return {
      error: `expected a prefix like 10.77.0.0/24 or a range like 192.168.1.200-192.168.1.239, got ${describeValue(v)}`,
    };
  const dash = v.indexOf('-');
  if (dash > 0) {
    const a = parseIpv4(v.slice(0, dash).trim());
    const b = parseIpv4(v.slice(dash + 1).trim());
    if ('error' in a) return a;
    if ('error' in b) return b;
    const first = ip4(a.value);
    const last = ip4(b.value);
    if (last < first) return { error: `range ${v} ends before it starts` };
    return { value: { first, last, text: v } };
  }
  const c = parseCidr(v, 4);
  if ('error' in c) return c;
  const size = 2n ** BigInt(32 - c.value.prefix);
  if (size < 4n) return { error: `${c.value.text} is too small: a pool prefix needs at least /30` };
  return {
    value: { first: c.value.network + 1n, last: c.value.network + size - 2n, text: c.value.text },
  };
}

function ip4(s: string): bigint {
  return BigInt(parseIpv4Number(s) ?? 0);
}

function ip4Text(n: bigint): string {
  return formatIpv4(Number(n));
}

const policyShape = {
  allow: field(checkBool),
  address: field(checkIpv4),
  pool: field(checkString({ what: 'a pool name (a key of pools)', max: 64 })),
  routes: list(checkCidr()),
  'allow-client-routes': list(checkCidr()),
  dns: list(checkIpv4, { max: 2, single: true }),
  'max-sessions': field(checkInt(1, 4096)),
  'ppp-auth': field(checkEnum(['none', 'pap', 'chap'] as const)),
};
const policySchema = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject(policyShape, {
    error: (iss) =>
      iss.code === 'invalid_type'
        ? `expected a mapping like { pool: default, max-sessions: 2 }, got ${describeValue(iss.input)}`
        : undefined,
  }),
);
const policyMap = z
  .record(z.string(), policySchema, {
    error: (iss) =>
      iss.code === 'invalid_type'
        ? `expected a mapping of names to policies, got ${describeValue(iss.input)}`
        : undefined,
  })
  .optional();

export const gatewaySchema = z.strictObject({
  socket: section({
    path: field(checkString({ what: 'a socket path' })),
    group: field(checkString({ what: 'a group name', max: 64 })),
    mode: field(checkMode),
  }),
  'local-address': field(checkIpv4),
  pool: field(checkPool),
  pools: z
    .record(z.string(), z.unknown(), {
      error: () => 'expected a mapping of pool names to prefixes or ranges',
    })
    .optional(),
  defaults: z.optional(policySchema),
  'unknown-users': field(checkEnum(['defaults', 'refuse'] as const)),
  users: policyMap,
  groups: policyMap,
  'max-sessions': field(checkInt(1, 65535)),
  'proxy-arp': field(checkBool),
  masquerade: field(checkBool),
  forwarding: field(checkEnum(['enable', 'check'] as const)),
  'lan-interface': field(
    checkString({
      what: 'an interface name',
      max: 15,
      pattern: /^[^/\s:]+$/,
      patternHelp: 'is not an interface name',
    }),
  ),
  'interface-name': field(
    checkString({
      what: 'an interface name pattern like tsvg%d',
      max: 15,
      pattern: /^[A-Za-z0-9_.-]*%d[A-Za-z0-9_.-]*$/,
      patternHelp: 'must contain %d (one interface per session)',
    }),
  ),
  mru: field(checkInt(CONFIG_MRU_RANGE.min, CONFIG_MRU_RANGE.max)),
  'echo-interval': field(checkSeconds(0, 3600)),
  'echo-failures': field(checkInt(1, 100)),
  ipv6: field(checkBool),
  offload: field(checkBool),
  auth: section({
    name: field(checkString({ what: 'a name', max: 255 })),
    users: z
      .array(
        z.strictObject({
          user: field(checkString({ what: 'a user name', max: 255 })),
          password: field(checkSecret(255)),
          'password-file': field(checkString({ what: 'a file path' })),
        }),
        { error: () => 'expected a list of { user, password-file } entries' },
      )
      .optional(),
  }),
  debug: field(checkBool),
  'state-dir': field(checkString({ what: 'a directory path' })),
});

export type GatewayYaml = z.output<typeof gatewaySchema>;
type PolicyYaml = z.output<typeof policySchema>;

function buildGateway(
  y: GatewayYaml,
  src: YamlSource,
  env: ConfigEnv,
): { cfg: GatewayConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const at = (p: PathSegment[], m: string) => issues.push(src.issue(p, m));

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
  const secrets: GatewayUserSecret[] = [];
  (a.users ?? []).forEach((u, i) => {
    const base: PathSegment[] = ['auth', 'users', i];
    if (u.user === undefined) at(base, 'user is required');
    if (u.password !== undefined && u['password-file'] !== undefined)
      at([...base, 'password-file'], 'give either password or password-file, not both');
    if (u.password === undefined && u['password-file'] === undefined)
      at(base, 'needs password-file (recommended) or password');
    secrets.push({
      user: u.user ?? '',
      password: u.password !== undefined ? new Secret(u.password) : null,
      passwordFile: u['password-file'] !== undefined ? expandPath(u['password-file'], env) : null,
    });
  });
  const wantsAuth = [defaults, ...users.values(), ...groups.values()].some(
    (p) => p.pppAuth !== 'none',
  );
  if (wantsAuth && secrets.length === 0)
    at(
      ['auth', 'users'],
      'ppp-auth is asked for but no secrets are listed; add users: [{ user: alice, password-file: /etc/ts-vpn/alice.secret }]',
    );

  const mru = y.mru ?? GATEWAY_DEFAULTS.mru;
  const ipv6 = y.ipv6 ?? true;
  if (ipv6 && mru < 1280)
    warnings.push(`mru ${mru} is below IPv6's minimum 1280: IPv6 will not come up`);

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
    mru,
    echoIntervalMs: y['echo-interval'] ?? GATEWAY_DEFAULTS.echoInterval * 1000,
    echoFailures: y['echo-failures'] ?? GATEWAY_DEFAULTS.echoFailures,
    ipv6,
    offload: y.offload ?? true,
    auth: { name: a.name ?? env.hostname, users: secrets },
    debug: y.debug ?? false,
    stateDir:
      y['state-dir'] !== undefined ? expandPath(y['state-dir'], env) : GATEWAY_DEFAULTS.stateDir,
    warnings,
  };
  if (cfg.socket.mode & 0o007)
    warnings.push(
      `socket.mode ${modeText} lets every local user connect; 0660 with socket.group limits it to that group`,
    );
  return { cfg, issues };
}

/** Parses and validates gateway.yaml text (no file access). Empty text gives the defaults. */
export function parseGatewayConfig(
  text: string,
  sourceName: string,
  env: ConfigEnv = defaultConfigEnv(),
): GatewayConfig {
  return parseConfigText(text, sourceName, gatewaySchema, (y, src) => buildGateway(y, src, env));
}

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
