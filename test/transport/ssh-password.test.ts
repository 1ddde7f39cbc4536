/**
 * SSH password and keyboard-interactive authentication (ssh-auth.ts) against an ssh2
 * Server on loopback that we script: which questions reach the prompter, what the server
 * receives, how many rounds are tried, and what the error says. The real-sshd and
 * real-terminal side is test/e2e/ssh-password.test.ts.
 */
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/transport/errors.js';
import { fingerprintSha256 } from '../../src/transport/host-key.js';
import { SshConnection, type SshPrompter } from '../../src/transport/ssh.js';

const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
const hostPub = ssh2.utils.parseKey(hostKey.public);
const FINGERPRINT = fingerprintSha256(
  (Array.isArray(hostPub) ? hostPub[0] : (hostPub as ssh2.ParsedKey)).getPublicSSH(),
);

type Ctx = ssh2.AuthContext;
interface Script {
  /** Methods the server offers, in its failure messages. */
  methods: string[];
  onAuth: (ctx: Ctx) => void;
}

let server: ssh2.Server | null = null;

afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function serve(script: Script): Promise<number> {
  server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method === 'none') return ctx.reject(script.methods as ssh2.AuthenticationType[]);
      script.onAuth(ctx);
    });
    client.on('ready', () => {});
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server!.address() as AddressInfo).port;
}

/** A prompter that answers from a list and records every question (never a terminal). */
function scripted(answers: Array<string | null>) {
  const asked: Array<{ question: string; echo: boolean }> = [];
  const shown: string[] = [];
  const prompter: SshPrompter = {
    ask: async (question, echo) => {
      asked.push({ question, echo });
      return answers.length > 0 ? (answers.shift() as string | null) : null;
    },
    show: (t) => {
      shown.push(t);
    },
  };
  return { prompter, asked, shown };
}

function connect(port: number, prompter?: SshPrompter, log?: (m: string) => void) {
  return SshConnection.connect({
    host: '127.0.0.1',
    port,
    user: 'alice',
    identities: [],
    agent: false,
    hostKey: { fingerprints: [FINGERPRINT], knownHostsFiles: [] },
    readyTimeoutMs: 8000,
    prompter,
    log,
  });
}

async function failure(p: Promise<SshConnection>): Promise<TransportError> {
  const r = await p.then(
    async (c) => {
      await c.end();
      return null;
    },
    (e: unknown) => e,
  );
  expect(r).toBeInstanceOf(TransportError);
  return r as TransportError;
}

describe('SSH password authentication', () => {
  it('asks "user@host\'s password:" with echo off and sends the answer to the server', async () => {
    const got: string[] = [];
    const port = await serve({
      methods: ['password'],
      onAuth: (ctx) => {
        if (ctx.method !== 'password') return ctx.reject(['password']);
        got.push(ctx.password);
        return ctx.password === 'sesame' ? ctx.accept() : ctx.reject(['password']);
      },
    });
    const { prompter, asked } = scripted(['sesame']);
    const lines: string[] = [];
    const conn = await connect(port, prompter, (m) => lines.push(m));
    await conn.end();
    expect(asked).toEqual([{ question: "alice@127.0.0.1's password: ", echo: false }]);
    expect(got).toEqual(['sesame']);
    expect(lines.join('\n')).toContain('trying password');
    expect(lines.join('\n')).not.toContain('sesame');
  });

  it('asks three times at most, then fails with AUTH_FAILED saying the password was wrong', async () => {
    let tries = 0;
    const port = await serve({
      methods: ['password'],
      onAuth: (ctx) => {
        if (ctx.method === 'password') tries++;
        ctx.reject(['password']);
      },
    });
    const { prompter, asked } = scripted(['a', 'b', 'c', 'd']);
    const err = await failure(connect(port, prompter));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toMatch(
      /Permission denied \(password\)\. Tried: password\. Wrong password/,
    );
    expect(err.message).not.toMatch(/\b[abcd]\b.*\b[abcd]\b/);
    expect(asked).toHaveLength(3);
    expect(tries).toBe(3);
  });

  it('stops asking when the user cancels, and says so', async () => {
    const port = await serve({ methods: ['password'], onAuth: (ctx) => ctx.reject(['password']) });
    const { prompter, asked } = scripted([null]);
    const err = await failure(connect(port, prompter));
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toMatch(/password prompt was cancelled/);
    expect(asked).toHaveLength(1);
  });

  it('without a prompter never tries passwords and names the fix', async () => {
    let typed = 0;
    const port = await serve({
      methods: ['password', 'keyboard-interactive'],
      onAuth: (ctx) => {
        typed++;
        ctx.reject(['password', 'keyboard-interactive']);
      },
    });
    const err = await failure(connect(port));
    expect(typed).toBe(0);
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toMatch(/no terminal to ask on \(stdin is not a TTY\)/);
    expect(err.message).toMatch(/ssh-copy-id/);
  });
});

describe('typed authentication as ssh_config allows it', () => {
  it('PasswordAuthentication no (typedAuth.password false) never asks for a password', async () => {
    let typed = 0;
    const port = await serve({
      methods: ['password'],
      onAuth: (ctx) => {
        typed++;
        ctx.reject(['password']);
      },
    });
    const { prompter, asked } = scripted(['x']);
    const err = await failure(
      SshConnection.connect({
        host: '127.0.0.1',
        port,
        user: 'alice',
        identities: [],
        agent: false,
        hostKey: { fingerprints: [FINGERPRINT], knownHostsFiles: [] },
        prompter,
        typedAuth: { password: false, keyboardInteractive: true, prompts: 3 },
      }),
    );
    expect(err.code).toBe('AUTH_FAILED');
    expect(asked).toEqual([]);
    expect(typed).toBe(0);
  });

  it('NumberOfPasswordPrompts 1 asks once', async () => {
    const port = await serve({ methods: ['password'], onAuth: (ctx) => ctx.reject(['password']) });
    const { prompter, asked } = scripted(['a', 'b']);
    const err = await failure(
      SshConnection.connect({
        host: '127.0.0.1',
        port,
        user: 'alice',
        identities: [],
        agent: false,
        hostKey: { fingerprints: [FINGERPRINT], knownHostsFiles: [] },
        prompter,
        typedAuth: { password: true, keyboardInteractive: true, prompts: 1 },
      }),
    );
    expect(err.code).toBe('AUTH_FAILED');
    expect(asked).toHaveLength(1);
  });
});

describe('SSH keyboard-interactive authentication', () => {
  it('shows the name and instruction, asks each prompt with its echo flag, sends the answers in order', async () => {
    const got: string[][] = [];
    const port = await serve({
      methods: ['keyboard-interactive'],
      onAuth: (ctx) => {
        if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
        ctx.prompt(
          [
            { prompt: 'Password: ', echo: false },
            { prompt: 'Verification code: ', echo: true },
          ],
          'Two factors\x1b[2J',
          'Type both.',
          (answers) => {
            got.push(answers);
            return answers[0] === 'sesame' && answers[1] === '123456'
              ? ctx.accept()
              : ctx.reject(['keyboard-interactive']);
          },
        );
      },
    });
    const { prompter, asked, shown } = scripted(['sesame', '123456']);
    const conn = await connect(port, prompter);
    await conn.end();
    // The server's texts reach the prompter as sent; the terminal prompter escapes them
    // (test/runtime/tty-prompt.test.ts).
    expect(shown).toEqual(['Two factors\x1b[2J', 'Type both.']);
    expect(asked).toEqual([
      { question: 'Password: ', echo: false },
      { question: 'Verification code: ', echo: true },
    ]);
    expect(got).toEqual([['sesame', '123456']]);
  });

  it('tries keyboard-interactive before password when the server offers both (OpenSSH order)', async () => {
    const order: string[] = [];
    const port = await serve({
      methods: ['password', 'keyboard-interactive'],
      onAuth: (ctx) => {
        order.push(ctx.method);
        if (ctx.method === 'password' && ctx.password === 'pw') return ctx.accept();
        if (ctx.method === 'keyboard-interactive')
          return ctx.prompt([{ prompt: 'Password: ', echo: false }], () =>
            ctx.reject(['password', 'keyboard-interactive']),
          );
        ctx.reject(['password', 'keyboard-interactive']);
      },
    });
    const { prompter } = scripted(['x', 'y', 'z', 'pw']);
    const conn = await connect(port, prompter);
    await conn.end();
    expect(order).toEqual([
      'keyboard-interactive',
      'keyboard-interactive',
      'keyboard-interactive',
      'password',
    ]);
  });
});
