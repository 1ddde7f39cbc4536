/**
 * What server.yaml (`ts-vpn serve`) and gateway.yaml (`ts-vpn gateway`) build the same
 * way: the PPP secrets list (`auth.users`) and the link settings of the far end (MRU,
 * LCP echoes, IPv6, offload, debug, state directory).
 */
import { type ConfigEnv, expandPath } from './env.js';
import { Secret } from './errors.js';
import type { PathSegment } from './source.js';

/** One `auth.users` entry: a PPP user and its secret. */
export interface FarEndUser {
  user: string;
  /** Inline password (discouraged) or the contents of passwordFile once loaded. */
  password: Secret | null;
  passwordFile: string | null;
}

type At = (path: PathSegment[], message: string) => void;

/** `auth.users`: each needs a user and one of password / password-file; names are unique. */
export function readUsers(
  list: readonly { user?: string; password?: string; 'password-file'?: string }[] | undefined,
  at: At,
  env: ConfigEnv,
): FarEndUser[] {
  const users: FarEndUser[] = [];
  const seen = new Map<string, number>();
  (list ?? []).forEach((u, i) => {
    const base: PathSegment[] = ['auth', 'users', i];
    if (u.user === undefined) at(base, 'user is required');
    if (u.password !== undefined && u['password-file'] !== undefined)
      at([...base, 'password-file'], 'give either password or password-file, not both');
    if (u.password === undefined && u['password-file'] === undefined)
      at(base, 'needs password-file (recommended) or password');
    if (u.user !== undefined) {
      const prev = seen.get(u.user);
      if (prev !== undefined)
        at([...base, 'user'], `"${u.user}" is already listed at auth.users[${prev}]`);
      else seen.set(u.user, i);
    }
    users.push({
      user: u.user ?? '',
      password: u.password !== undefined ? new Secret(u.password) : null,
      passwordFile: u['password-file'] !== undefined ? expandPath(u['password-file'], env) : null,
    });
  });
  return users;
}

export interface FarEndLink {
  mru: number;
  echoIntervalMs: number;
  echoFailures: number;
  ipv6: boolean;
  offload: boolean;
  debug: boolean;
  stateDir: string;
}

/** The far end's link settings from their YAML keys, with a warning for an MRU too small for IPv6. */
export function readFarEndLink(
  y: {
    mru?: number;
    'echo-interval'?: number;
    'echo-failures'?: number;
    ipv6?: boolean;
    offload?: boolean;
    debug?: boolean;
    'state-dir'?: string;
  },
  defaults: { mru: number; echoInterval: number; echoFailures: number; stateDir: string },
  env: ConfigEnv,
  warnings: string[],
): FarEndLink {
  const mru = y.mru ?? defaults.mru;
  const ipv6 = y.ipv6 ?? true;
  if (ipv6 && mru < 1280)
    warnings.push(`mru ${mru} is below IPv6's minimum 1280: IPv6 will not come up`);
  return {
    mru,
    echoIntervalMs: y['echo-interval'] ?? defaults.echoInterval * 1000,
    echoFailures: y['echo-failures'] ?? defaults.echoFailures,
    ipv6,
    offload: y.offload ?? true,
    debug: y.debug ?? false,
    stateDir: y['state-dir'] !== undefined ? expandPath(y['state-dir'], env) : defaults.stateDir,
  };
}
