/**
 * connectTransport: the client's connect step picks the transport from the peer config:
 * a local command (remote.transport: command) or ssh2 + exec against a real sshd.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePeerConfig } from '../../src/config/peer.js';
import { applySshConfig } from '../../src/config/ssh-settings.js';
import { connectTransport, describeRemote } from '../../src/transport/connect.js';
import { TransportError } from '../../src/transport/errors.js';
import type { Transport } from '../../src/transport/types.js';
import { ENV } from '../config/fixtures.js';
import { freePort, type Sshd, startSshd } from '../support/sshd.js';

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      debug: (m: string) => lines.push(`debug ${m}`),
    },
  };
}

/** Writes `text`, reads until as many bytes came back. */
function echo(t: Transport, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    t.onData((d) => {
      got += Buffer.from(d).toString('latin1');
      if (got.length >= text.length) resolve(got);
    });
    t.onClose((r) => reject(new Error(`closed: ${r.message}`)));
    t.write(Buffer.from(text, 'latin1'));
  });
}

describe('connectTransport, remote.transport: command', () => {
  it('runs the local command and carries bytes over its stdin/stdout, with no server address', async () => {
    const cfg = parsePeerConfig(
      'remote:\n  transport: command\n  command: "cat; echo bye >&2"\n  kind: ts-vpn\n',
      'p.yaml',
      ENV,
    );
    expect(describeRemote(cfg)).toBe('command "cat; echo bye >&2"');
    const r = recorder();
    const seen: Array<string | null> = [];
    const { transport, serverAddr } = await connectTransport(cfg, {
      log: r.log,
      beforeStart: async (a) => {
        seen.push(a);
      },
    });
    try {
      expect(serverAddr).toBeNull();
      expect(seen).toEqual([null]);
      expect(transport.info.kind).toBe('command');
      expect(r.lines.join('\n')).toMatch(/command: started "cat; echo bye >&2" \(pid \d+\)/);
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
      expect(await echo(transport, all)).toBe(all);
    } finally {
      await transport.close();
    }
  });

  it('ends with EXIT 127 and the shell message when the command does not exist', async () => {
    const cfg = parsePeerConfig(
      'remote:\n  transport: command\n  command: /nonexistent/ppp-thing\n  kind: ts-vpn\n',
      'p.yaml',
      ENV,
    );
    const { transport } = await connectTransport(cfg, { log: recorder().log });
    const reason = await transport.closed;
    expect(reason.code).toBe('EXIT');
    expect(reason.exitCode).toBe(127);
    expect(reason.message).toMatch(/not found/);
  });

  it('does not start the command when beforeStart throws', async () => {
    const cfg = parsePeerConfig(
      'remote:\n  transport: command\n  command: cat\n  kind: ts-vpn\n',
      'p.yaml',
      ENV,
    );
    const r = recorder();
    await expect(
      connectTransport(cfg, {
        log: r.log,
        beforeStart: async () => {
          throw new Error('closing');
        },
      }),
    ).rejects.toThrow('closing');
    expect(r.lines).toEqual([]);
  });
});

describe('connectTransport, remote.transport: ssh (real sshd)', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  function sshCfg() {
    return parsePeerConfig(
      `ssh:
  host: ${sshd.listenAddress}
  port: ${sshd.port}
  user: root
  identity-files: [${sshd.clientKeyPath}]
  agent: false
  host-key:
    known-hosts: ${sshd.knownHostsPath}
remote:
  command: cat
  kind: ts-vpn
`,
      'p.yaml',
      ENV,
    );
  }

  it('connects, logs the host key and auth, passes the server address, runs the command', async () => {
    const cfg = sshCfg();
    expect(describeRemote(cfg)).toBe(`root@${sshd.listenAddress}:${sshd.port}`);
    const r = recorder();
    const seen: Array<string | null> = [];
    const { transport, serverAddr } = await connectTransport(cfg, {
      log: r.log,
      beforeStart: async (a) => {
        seen.push(a);
      },
    });
    try {
      expect(serverAddr).toBe('127.0.0.1');
      expect(seen).toEqual(['127.0.0.1']);
      expect(transport.info.kind).toBe('ssh');
      const text = r.lines.join('\n');
      expect(text).toMatch(/info ssh: connected in \d+ ms \(.*verified by known_hosts .*:1\)/);
      expect(text).toMatch(/info ssh: authenticated as root \(publickey\) in \d+ ms/);
      expect(await echo(transport, 'hello')).toBe('hello');
    } finally {
      await transport.close();
    }
  });

  it('closes the connection when beforeStart throws (nothing left on the server)', async () => {
    await expect(
      connectTransport(sshCfg(), {
        log: recorder().log,
        beforeStart: async () => {
          throw new Error('closing');
        },
      }),
    ).rejects.toThrow('closing');
    for (let i = 0; i < 50 && sshd.sessionPids().length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(sshd.sessionPids()).toEqual([]);
  });
});

describe('connectTransport with several gateways (ssh.host list)', () => {
  let sshd: Sshd;
  let dir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'tv-gws-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function cfgFor(hosts: string[]) {
    const closed = await freePort();
    const conf = join(dir, 'ssh_config');
    writeFileSync(
      conf,
      `Host gw-down
  HostName 127.0.0.1
  Port ${closed}
Host gw-up
  HostName ${sshd.listenAddress}
  Port ${sshd.port}
Host *
  User root
  IdentityFile ${sshd.clientKeyPath}
  UserKnownHostsFile ${sshd.knownHostsPath}
`,
    );
    const cfg = parsePeerConfig(
      `ssh:\n  host: [${hosts.join(', ')}]\n  agent: false\n  config-file: ${conf}\nremote:\n  command: cat\n  kind: ts-vpn\n`,
      'p.yaml',
      ENV,
    );
    applySshConfig(cfg, ENV, { systemConfig: join(dir, 'none') });
    return { cfg, closed };
  }

  it('tries the gateways in order: the first refuses, the second is used', async () => {
    const { cfg, closed } = await cfgFor(['gw-down', 'gw-up']);
    expect(describeRemote(cfg)).toBe(
      `root@127.0.0.1:${closed} (then root@${sshd.listenAddress}:${sshd.port})`,
    );
    const r = recorder();
    const { transport } = await connectTransport(cfg, { log: r.log });
    try {
      expect(transport.info.remote).toBe(`root@${sshd.listenAddress}:${sshd.port}`);
      const text = r.lines.join('\n');
      expect(text).toMatch(
        new RegExp(
          `warn ssh: gateway 1 of 2 \\(gw-down\\): ssh: connect to host 127\\.0\\.0\\.1 port ${closed}: Connection refused; trying gw-up`,
        ),
      );
      expect(text).toMatch(/info ssh: using gateway 2 of 2 \(gw-up\)/);
      expect(await echo(transport, 'second')).toBe('second');
    } finally {
      await transport.close();
    }
  });

  it('lists every gateway when none can be reached, with a retryable code', async () => {
    const { cfg } = await cfgFor(['gw-down', 'gw-up']);
    cfg.ssh.alternates[0].hostKey = {
      ...cfg.ssh.alternates[0].hostKey,
      fingerprints: ['SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    };
    const err = await connectTransport(cfg, { log: recorder().log }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('CONNECT_REFUSED');
    expect((err as TransportError).message).toMatch(
      /^no gateway could be reached:\n {2}gateway 1 of 2 \(gw-down\): .*Connection refused\n {2}gateway 2 of 2 \(gw-up\): .*REMOTE HOST IDENTIFICATION HAS CHANGED/s,
    );
  });
});

describe('ssh_config is read again on every reconnect', () => {
  let a: Sshd;
  let b: Sshd;
  let dir: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([startSshd(), startSshd()]);
    dir = mkdtempSync(join(tmpdir(), 'tv-reread-'));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const conf = () => join(dir, 'ssh_config');
  function writeConf(s: Sshd, extra = '') {
    writeFileSync(
      conf(),
      `Host gw
  HostName ${s.listenAddress}
  Port ${s.port}
  User root
  IdentityFile ${s.clientKeyPath}
  UserKnownHostsFile ${s.knownHostsPath}
${extra}`,
    );
  }

  it('an edited HostName/Port/IdentityFile/UserKnownHostsFile is used by the next connect, with a debug line', async () => {
    writeConf(a);
    const cfg = parsePeerConfig(
      `ssh:
  host: gw
  agent: false
  config-file: ${conf()}
remote:
  command: cat
  kind: ts-vpn
`,
      'p.yaml',
      ENV,
    );
    applySshConfig(cfg, ENV, { systemConfig: join(dir, 'none') });
    const first = recorder();
    const c1 = await connectTransport(cfg, { log: first.log });
    expect(c1.transport.info.remote).toBe(`root@${a.listenAddress}:${a.port}`);
    await c1.transport.close();
    expect(first.lines.join('\n')).not.toMatch(/read again/);

    // The user moves the gateway in ~/.ssh/config: another sshd, key and known_hosts.
    writeConf(b);
    const second = recorder();
    const c2 = await connectTransport(cfg, { log: second.log });
    try {
      expect(c2.transport.info.remote).toBe(`root@${b.listenAddress}:${b.port}`);
      expect(await echo(c2.transport, 'moved')).toBe('moved');
    } finally {
      await c2.transport.close();
    }
    const text = second.lines.join('\n');
    expect(text).toContain(`debug ssh config: read again for this connect: ${conf()}; changed: `);
    expect(text).toContain(`port ${a.port} -> ${b.port} [${conf()}:3]`);
    expect(text).toContain(`identity-files ${a.clientKeyPath} -> ${b.clientKeyPath} [${conf()}:5]`);
    // peer.yaml's own config object is not changed by the re-read.
    expect(cfg.ssh.port).toBe(a.port);

    // Unchanged: says so. Broken now: warns and keeps the last good settings.
    const third = recorder();
    const c3 = await connectTransport(cfg, { log: third.log });
    await c3.transport.close();
    expect(third.lines.join('\n')).toContain('nothing changed');
    writeFileSync(conf(), `Host gw\n  Port 99999\n`);
    const fourth = recorder();
    const c4 = await connectTransport(cfg, { log: fourth.log });
    try {
      expect(c4.transport.info.remote).toBe(`root@${b.listenAddress}:${b.port}`);
    } finally {
      await c4.transport.close();
    }
    expect(fourth.lines.join('\n')).toMatch(
      /warn ssh config: cannot read it again \(.*ssh_config:2: Port "99999": expected a port number.*\); connecting with the settings from before/,
    );
  });
});

describe('a server that only takes passwords', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd({
      extraConfig: 'Match all\n  PubkeyAuthentication no\n  PasswordAuthentication yes',
    });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('without a terminal, fails with AUTH_FAILED saying there is nothing to ask a password on and what to do', async () => {
    const cfg = parsePeerConfig(
      `ssh:\n  host: ${sshd.listenAddress}\n  port: ${sshd.port}\n  user: root\n  identity-files: [${sshd.clientKeyPath}]\n  agent: false\n  config: false\n  host-key:\n    known-hosts: ${sshd.knownHostsPath}\nremote:\n  command: cat\n  kind: ts-vpn\n`,
      'p.yaml',
      ENV,
    );
    const err = await connectTransport(cfg, { log: recorder().log }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as TransportError).code).toBe('AUTH_FAILED');
    expect((err as TransportError).message).toMatch(
      /Permission denied \(password\)\..*takes a password .*no terminal to ask on \(stdin is not a TTY\): run `ts-vpn up` from a terminal.*or authorize a key/,
    );
  });
});
