/**
 * Client authentication: which methods are tried, in which order, and what was tried
 * (for the `Permission denied (…). Tried: …` message). Identity files first, then the
 * ssh-agent, each once, as OpenSSH does.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AuthenticationType, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import type { TypedAuth } from '../config/peer-types.js';
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

/**
 * Asks the user (a terminal) for what a server wants typed: `user@host's password: `, or
 * the server's keyboard-interactive prompts. Implementations never log or store answers.
 * The server's texts arrive as sent: the prompter escapes them before showing them.
 */
export interface SshPrompter {
  /** One question; `echo: false` hides what is typed. Resolves null when the user cancels. */
  ask(question: string, echo: boolean): Promise<string | null>;
  /** Keyboard-interactive `name` and `instruction` texts from the server, shown before the prompts. */
  show(text: string): void;
}

/** Password or keyboard-interactive rounds per connection (OpenSSH NumberOfPasswordPrompts). */
export const PASSWORD_PROMPTS = 3;

export type { TypedAuth } from '../config/peer-types.js';

export interface AuthPlanOptions {
  user: string;
  /** The server's host name, for `user@host's password: `. */
  host: string;
  /** `user@host:port`, for log lines. */
  remote: string;
  identities?: Array<string | SshIdentity>;
  /** The ssh-agent socket, or undefined for none. */
  agentSock: string | undefined;
  /** Asks for passwords / keyboard-interactive answers; without it those methods are not tried. */
  prompter?: SshPrompter;
  /** Default: both methods, PASSWORD_PROMPTS rounds each. */
  typedAuth?: TypedAuth;
  log: (msg: string) => void;
}

/** The methods to try and what happened; `handler` is ssh2's authHandler. */
export interface AuthPlan {
  handler: AuthHandlerMiddleware;
  /** Labels of the methods tried so far, in order. */
  tried: string[];
  /** The methods the server said can continue, once it said so. */
  serverAllows(): AuthenticationType[] | null;
  /** The user cancelled a prompt (Ctrl-C, Ctrl-D). */
  cancelled(): boolean;
}

type Next = Parameters<AuthHandlerMiddleware>[2];
type KbdPrompt = { prompt: string; echo?: boolean };

/**
 * Identity files, then the agent (each once), then — only with a prompter, and as the
 * server allows — keyboard-interactive and password, up to PASSWORD_PROMPTS rounds each
 * (OpenSSH's order). Loads the identities now (IDENTITY_INVALID for an explicit file
 * that does not load).
 */
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
  let kbdRounds = 0;
  let passwordRounds = 0;
  let cancelled = false;
  const prompter = opts.prompter;
  const typed = opts.typedAuth ?? {
    password: true,
    keyboardInteractive: true,
    prompts: PASSWORD_PROMPTS,
  };
  const say = (m: string) => opts.log(`ssh ${opts.remote}: ${m}`);
  const giveUp = (next: Next) => next(false as unknown as Parameters<Next>[0]);

  const tryLabel = (label: string) => {
    if (!tried.includes(label)) tried.push(label);
    say(`trying ${label}`);
  };

  const keyboardInteractive = (next: Next) => {
    kbdRounds++;
    tryLabel('keyboard-interactive');
    next({
      type: 'keyboard-interactive',
      username: opts.user,
      prompt: (
        name: string,
        instructions: string,
        _lang: string,
        prompts: KbdPrompt[],
        finish: (answers: string[]) => void,
      ) => {
        void (async () => {
          if (name) prompter!.show(name);
          if (instructions) prompter!.show(instructions);
          const answers: string[] = [];
          for (const p of prompts) {
            const a = cancelled ? null : await prompter!.ask(p.prompt, p.echo === true);
            if (a === null) {
              cancelled = true;
              answers.push('');
            } else answers.push(a);
          }
          finish(answers);
        })();
      },
    } as unknown as Parameters<Next>[0]);
  };

  const password = (next: Next) => {
    passwordRounds++;
    tryLabel('password');
    void prompter!.ask(`${opts.user}@${opts.host}'s password: `, false).then((pw) => {
      if (pw === null) {
        cancelled = true;
        return giveUp(next);
      }
      next({ type: 'password', username: opts.user, password: pw } as Parameters<Next>[0]);
    });
  };

  const handler: AuthHandlerMiddleware = (authsLeft, _partial, next) => {
    if (authsLeft) allows = authsLeft;
    while (plan.length > 0) {
      const m = plan.shift()!;
      if (authsLeft && !authsLeft.includes('publickey')) continue;
      tried.push(m.label);
      say(`trying ${m.label}`);
      next(m.make() as Parameters<Next>[0]);
      return;
    }
    // Nothing (left) to offer before the server said what it takes: ask it (`none`), as
    // OpenSSH does, so the error can list its methods and typed secrets can follow.
    if (!authsLeft) return next({ type: 'none', username: opts.user } as Parameters<Next>[0]);
    // Typed secrets last, and only when the server lists the method (not on the first
    // call, before it said what it accepts) and someone can type.
    if (prompter && authsLeft && !cancelled) {
      const kbdOk = typed.keyboardInteractive && authsLeft.includes('keyboard-interactive');
      if (kbdOk && kbdRounds < typed.prompts) return keyboardInteractive(next);
      if (typed.password && authsLeft.includes('password') && passwordRounds < typed.prompts)
        return password(next);
    }
    giveUp(next);
  };
  return { handler, tried, serverAllows: () => allows, cancelled: () => cancelled };
}
