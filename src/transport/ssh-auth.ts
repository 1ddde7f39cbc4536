/**
 * Client authentication: which methods are tried, in which order, and what was tried
 * (for the `Permission denied (…). Tried: …` message). Identity files first, then the
 * ssh-agent, each once, as OpenSSH does.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AuthenticationType, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { ssh2 } from '../native-modules.js';
import { TransportError } from './errors.js';
import { fingerprintSha256, keyTypeLabel } from './host-key.js';

export interface SshIdentity {
  path: string;
  /** Never logged. */
  passphrase?: string;
}

interface LoadedIdentity {
  label: string;
  key: ParsedKey;
}

function loadIdentities(
  identities: Array<string | SshIdentity> | undefined,
  log: (m: string) => void,
): LoadedIdentity[] {
  const out: LoadedIdentity[] = [];
  const explicit = identities !== undefined;
  const list: SshIdentity[] = explicit
    ? identities.map((i) => (typeof i === 'string' ? { path: i } : i))
    : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => ({ path: join(homedir(), '.ssh', n) }));
  for (const id of list) {
    let data: Buffer;
    try {
      data = readFileSync(id.path);
    } catch (err) {
      if (!explicit) continue;
      throw new TransportError(
        'IDENTITY_INVALID',
        `Cannot read identity file ${id.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const parsed = ssh2().utils.parseKey(data, id.passphrase);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || !key || !key.isPrivateKey()) {
      const why = key instanceof Error ? key.message : 'not a private key';
      if (!explicit) {
        log(`skipping identity ${id.path}: ${why}`);
        continue;
      }
      throw new TransportError('IDENTITY_INVALID', `Cannot load identity file ${id.path}: ${why}`);
    }
    const fp = fingerprintSha256(key.getPublicSSH());
    out.push({ label: `publickey ${id.path} (${keyTypeLabel(key.type)} ${fp})`, key });
  }
  return out;
}

export interface AuthPlanOptions {
  user: string;
  /** `user@host:port`, for log lines. */
  remote: string;
  identities?: Array<string | SshIdentity>;
  /** The ssh-agent socket, or undefined for none. */
  agentSock: string | undefined;
  log: (msg: string) => void;
}

/** The methods to try and what happened; `handler` is ssh2's authHandler. */
export interface AuthPlan {
  handler: AuthHandlerMiddleware;
  /** Labels of the methods tried so far, in order. */
  tried: string[];
  /** The methods the server said can continue, once it said so. */
  serverAllows(): AuthenticationType[] | null;
}

/** Loads the identities (throws IDENTITY_INVALID for an explicit file that does not load). */
export function planAuth(opts: AuthPlanOptions): AuthPlan {
  const identities = loadIdentities(opts.identities, opts.log);
  type Method = { label: string; make: () => object };
  const plan: Method[] = identities.map((id) => ({
    label: id.label,
    make: () => ({ type: 'publickey', username: opts.user, key: id.key }),
  }));
  const agent = opts.agentSock;
  if (agent) {
    plan.push({
      label: `agent ${agent}`,
      make: () => ({ type: 'agent', username: opts.user, agent }),
    });
  }
  const tried: string[] = [];
  let allows: AuthenticationType[] | null = null;
  const handler: AuthHandlerMiddleware = (authsLeft, _partial, next) => {
    if (authsLeft) allows = authsLeft;
    while (plan.length > 0) {
      const m = plan.shift()!;
      if (authsLeft && !authsLeft.includes('publickey')) continue;
      tried.push(m.label);
      opts.log(`ssh ${opts.remote}: trying ${m.label}`);
      next(m.make() as Parameters<typeof next>[0]);
      return;
    }
    next(false as unknown as Parameters<typeof next>[0]);
  };
  return { handler, tried, serverAllows: () => allows };
}
