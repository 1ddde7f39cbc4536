/**
 * `server.yaml`: the far end (`ts-vpn serve`, started by the client over SSH).
 * Every key is optional: with no file at all, `ts-vpn serve` hands out
 * 10.77.0.2-10.77.0.254 from the pool 10.77.0.0/24 and uses 10.77.0.1 itself.
 */
import { z } from 'zod';
import { ENGINE_DEFAULTS } from '../engine/defaults.js';
import { type ConfigEnv, defaultConfigEnv } from './env.js';
import type { ConfigIssue } from './errors.js';
import { type FarEndUser, readFarEndLink, readUsers } from './far-end.js';
import {
  checkBool,
  checkCidr,
  checkEnum,
  checkInt,
  checkIpv4,
  checkSeconds,
  checkSecret,
  checkString,
  field,
  list,
  section,
} from './fields.js';
import { CONFIG_MRU_RANGE } from './limits.js';
import { bigToText, type Cidr, cidrContainsAddress, parseIp } from './net.js';
import { checkRouteList, SERVER_ROUTE_HINTS } from './routes.js';
import type { YamlSource } from './source.js';
import { configParser, issueCollector } from './validate.js';

export type ServerUser = FarEndUser;

export interface ServerConfig {
  kind: 'server';
  source: string;
  /** Client address pool (IPv4 CIDR), or null when a fixed peerAddress is used. */
  pool: string | null;
  /** Fixed client address (single-client setups), or null when the pool is used. */
  peerAddress: string | null;
  /** The server's own PPP address. */
  localAddress: string;
  /** DNS servers offered to clients (RFC 1877), at most 2. */
  dns: string[];
  /** Prefixes a client may claim as its networks; the server routes them back to it. */
  allowClientRoutes: string[];
  /** Prefixes the server routes towards every client session. */
  routes: string[];
  maxSessions: number;
  mru: number;
  echoIntervalMs: number;
  echoFailures: number;
  ipv6: boolean;
  /**
   * TCP segmentation offload through the TUN device and "GSO frames" on the link,
   * when the client supports them too (LCP vendor option; stock pppd never sees them).
   */
  offload: boolean;
  auth: { require: 'none' | 'pap' | 'chap'; name: string; users: ServerUser[] };
  debug: boolean;
  stateDir: string;
  warnings: string[];
}

export const SERVER_DEFAULTS = {
  pool: '10.77.0.0/24',
  maxSessions: 16,
  mru: ENGINE_DEFAULTS.lcp.mru,
  echoInterval: 10,
  echoFailures: ENGINE_DEFAULTS.lcp.echoFailures,
  stateDir: '/run/ts-vpn',
} as const;

export const serverSchema = z.strictObject({
  pool: field(checkCidr(4)),
  'peer-address': field(checkIpv4),
  'local-address': field(checkIpv4),
  dns: list(checkIpv4, { max: 2, single: true }),
  'allow-client-routes': list(checkCidr()),
  routes: list(checkCidr()),
  'max-sessions': field(checkInt(1, 4096)),
  mru: field(checkInt(CONFIG_MRU_RANGE.min, CONFIG_MRU_RANGE.max)),
  'echo-interval': field(checkSeconds(0, 3600)),
  'echo-failures': field(checkInt(1, 100)),
  ipv6: field(checkBool),
  offload: field(checkBool),
  auth: section({
    require: field(checkEnum(['none', 'pap', 'chap'] as const)),
    name: field(checkString({ what: 'a name', max: 255 })),
    users: z
      .array(
        z.strictObject(
          {
            user: field(checkString({ what: 'a user name', max: 255 })),
            password: field(checkSecret(255)),
            'password-file': field(checkString({ what: 'a file path' })),
          },
          {
            error: (iss) =>
              iss.code === 'invalid_type'
                ? 'expected a mapping like { user: alice, password-file: /etc/ts-vpn/alice.secret }'
                : undefined,
          },
        ),
        {
          error: (iss) =>
            iss.code === 'invalid_type'
              ? 'expected a list of { user, password-file } entries'
              : undefined,
        },
      )
      .optional(),
  }),
  debug: field(checkBool),
  'state-dir': field(checkString({ what: 'a directory path' })),
});

export type ServerYaml = z.output<typeof serverSchema>;

function poolSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

function buildServer(
  y: ServerYaml,
  src: YamlSource,
  env: ConfigEnv,
): { cfg: ServerConfig; issues: ConfigIssue[] } {
  const { issues, warnings, at } = issueCollector(src);

  const fixedPeer = y['peer-address'] ?? null;
  let pool: Cidr | null = y.pool ?? null;
  if (pool && fixedPeer)
    at(
      ['peer-address'],
      'give either pool (many clients) or peer-address (one fixed client), not both',
    );
  if (!pool && !fixedPeer) pool = (checkCidr(4)(SERVER_DEFAULTS.pool) as { value: Cidr }).value;

  let localAddress = y['local-address'];
  if (pool) {
    if (pool.prefix > 30)
      at(
        ['pool'],
        `${pool.text} is too small: a pool needs at least /30 (the server address plus clients)`,
      );
    if (localAddress === undefined) localAddress = bigToText(pool.network + 1n, 4);
  } else if (localAddress === undefined) {
    at(
      ['local-address'],
      'is required with peer-address (the server end of the point-to-point link, e.g. 10.77.0.1)',
    );
  }
  if (localAddress && fixedPeer && localAddress === fixedPeer)
    at(
      ['peer-address'],
      `is the same as local-address (${localAddress}); the two ends need different addresses`,
    );
  let maxSessions = y['max-sessions'] ?? (fixedPeer ? 1 : SERVER_DEFAULTS.maxSessions);
  if (pool && pool.prefix <= 30) {
    const local = localAddress ? parseIp(localAddress) : null;
    const usable =
      poolSize(pool) -
      2 -
      (local && 'value' in local && cidrContainsAddress(pool, local.value) ? 1 : 0);
    // The default shrinks to fit a small pool; an explicit value must fit.
    if (y['max-sessions'] === undefined) maxSessions = Math.min(maxSessions, usable);
    else if (maxSessions > usable) {
      at(
        ['max-sessions'],
        `max-sessions ${maxSessions} is more than the ${usable} client addresses in pool ${pool.text}; widen the pool or lower max-sessions`,
      );
    }
  }
  if (fixedPeer && maxSessions > 1)
    at(
      ['max-sessions'],
      `is ${maxSessions}, but a fixed peer-address can serve only one session; use pool for several clients`,
    );

  const routes = y.routes ?? [];
  checkRouteList(routes, ['routes'], at, SERVER_ROUTE_HINTS);
  const acr = y['allow-client-routes'] ?? [];
  acr.forEach((c, i) => {
    if (c.prefix === 0)
      at(
        ['allow-client-routes', i],
        `${c.text} would let a client take over all traffic of the server; list the client networks you expect`,
      );
  });

  // auth
  const a = y.auth ?? {};
  const require = a.require ?? 'none';
  const users: ServerUser[] = readUsers(a.users, at, env);
  if (require !== 'none' && users.length === 0)
    at(
      ['auth', 'users'],
      `auth.require is ${require} but no users are listed; add users: [{ user: alice, password-file: /etc/ts-vpn/alice.secret }]`,
    );
  if (require === 'none' && users.length > 0)
    warnings.push(
      'auth.users are listed but auth.require is none: clients are not asked to authenticate',
    );

  const link = readFarEndLink(y, SERVER_DEFAULTS, env, warnings);

  const cfg: ServerConfig = {
    kind: 'server',
    source: src.name,
    pool: pool ? pool.text : null,
    peerAddress: fixedPeer,
    localAddress: localAddress ?? '',
    dns: y.dns ?? [],
    allowClientRoutes: acr.map((c) => c.text),
    routes: routes.map((c) => c.text),
    maxSessions,
    ...link,
    auth: { require, name: a.name ?? env.hostname, users },
    warnings,
  };
  return { cfg, issues };
}

/** Parses and validates server.yaml text (no file access). Empty text gives the defaults. */
export const parseServerConfig: (
  text: string,
  sourceName: string,
  env?: ConfigEnv,
) => ServerConfig = configParser(serverSchema, buildServer);

/** The configuration `ts-vpn serve` uses when no file is given. */
export function defaultServerConfig(env: ConfigEnv = defaultConfigEnv()): ServerConfig {
  return parseServerConfig('', '(defaults)', env);
}
