/**
 * The real-sshd harness itself: in a namespace the test creates, reachable with the stock
 * OpenSSH client using only the files the harness generated (strict host key checking).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns, removeStale, requireNetns, uniqueId } from '../support/netns.js';
import { childPids, type Sshd, startSshd } from '../support/sshd.js';

const root = requireNetns('sshd namespace tests');

describe.skipIf(!root)('startSshd in a namespace (needs root and ip netns)', () => {
  let ns: Netns | undefined;
  let sshd: Sshd | undefined;
  afterAll(async () => {
    await sshd?.stop();
    ns?.destroy();
  });

  it('serves the stock ssh client with the generated known_hosts and client key', async () => {
    removeStale('tv-tsh-');
    ns = createNetns(`tv-tsh-${uniqueId()}`);
    sshd = await startSshd({
      ns: ns.name,
      listenAddress: '127.0.0.1',
      port: 2222,
      allowTunnel: true,
    });
    expect(statSync(sshd.clientKeyPath).mode & 0o777).toBe(0o600);
    expect(sshd.knownHostsName).toBe('[127.0.0.1]:2222');
    const out = ns.exec('ssh', [
      '-F',
      '/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${sshd.knownHostsPath}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-i',
      sshd.clientKeyPath,
      '-p',
      '2222',
      'root@127.0.0.1',
      'echo ok; ls -l /proc/self/fd/0 /proc/self/fd/1',
    ]);
    expect(out).toMatch(/^ok\n/);
    // sshd hands a no-pty command pipes (what StdioTransport's F_SETPIPE_SZ relies on).
    expect(out).toMatch(/fd\/0 -> pipe:/);
    await new Promise((r) => setTimeout(r, 100)); // sshd writes its log asynchronously
    expect(sshd.log()).toMatch(/Accepted publickey for root/);
    const dir = sshd.dir;
    await sshd.stop();
    expect(existsSync(dir)).toBe(false);
    expect(() => process.kill(sshd!.pid, 0)).toThrow();
    sshd = undefined;
  });
});

describe('childPids', () => {
  it('finds the children of a process through /proc', async () => {
    const kid = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      await new Promise((r) => kid.once('spawn', r));
      expect(childPids(process.pid)).toContain(kid.pid);
    } finally {
      kid.kill('SIGKILL');
    }
  });
});
