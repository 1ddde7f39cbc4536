import { z } from 'zod';
import { ENGINE_DEFAULTS } from '../engine/defaults.js';
import { formatIpv4, parseIpv4 as parseIpv4Number } from '../wire/ip.js';
import type { Secret } from './errors.js';
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
import { parseCidr, parseIpv4 } from './net.js';

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
  /**
   * The account the daemon becomes once it listens (`run-as`); null: it stays uid 0.
   * Either way it keeps only CAP_NET_ADMIN (docs/SECURITY.md).
   */
  runAs: { user: string | null; group: string | null };
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
export function checkPool(
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

export function ip4(s: string): bigint {
  return BigInt(parseIpv4Number(s) ?? 0);
}

export function ip4Text(n: bigint): string {
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
  'run-as': section({
    user: field(checkString({ what: 'a user name or uid', max: 255 })),
    group: field(checkString({ what: 'a group name or gid', max: 255 })),
  }),
  debug: field(checkBool),
  'state-dir': field(checkString({ what: 'a directory path' })),
});

export type GatewayYaml = z.output<typeof gatewaySchema>;
export type PolicyYaml = z.output<typeof policySchema>;
