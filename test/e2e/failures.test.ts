/**
 * End to end, the failure paths: host key mismatch, wrong client key, the SSH connection
 * dropping under the far end, and the stale state a killed client leaves behind.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAN_ADDR, links, routes, SERVER_ADDR, until } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tv-other', '-f', path], {
    stdio: 'ignore',
  });
}

describe.skipIf(!enabled)('ts-vpn up failure paths', () => {
  const lab = useLab();

  it('refuses a changed host key (exit 4) and configures nothing', async () => {
    const other = join(lab.dir, 'other_host');
    keygen(other);
    const [type, key] = readFileSync(`${other}.pub`, 'utf8').split(' ');
    const kh = join(lab.dir, 'wrong_known_hosts');
    writeFileSync(kh, `${lab.sshd.knownHostsName} ${type} ${key}\n`, { mode: 0o600 });
    const peer = lab.writePeer('wrong-hostkey.yaml', { name: `hk-${lab.id}`, knownHosts: kh });
    const up = await lab.startUp({ peerYaml: peer, wait: false });
    const r = await up.exited;
    expect(r.code, up.log()).toBe(4);
    expect(up.log()).toMatch(
      /HOST IDENTIFICATION HAS CHANGED|host key.*(mismatch|changed|does not match)/i,
    );
    expect(up.log()).not.toMatch(/authenticated as/);
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tsvpn'))).toBe(false);
    expect(lab.servePids()).toEqual([]);
  });

  it('fails with exit 5 and a clear message when the client key is not authorized', async () => {
    const key = join(lab.dir, 'unauthorized_key');
    keygen(key);
    const peer = lab.writePeer('bad-key.yaml', { name: `key-${lab.id}`, identity: key });
    const up = await lab.startUp({ peerYaml: peer, wait: false });
    const r = await up.exited;
    expect(r.code, up.log()).toBe(5);
    expect(up.log()).toMatch(
      /ts-vpn: root@198\.18\.0\.2:2222: Permission denied \(publickey\)\. Tried: publickey .*unauthorized_key/,
    );
    expect(up.log()).not.toMatch(/\n\s+at /); // no stack trace without --debug
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tsvpn'))).toBe(false);
  });

  it("exits 6 with the far end's message when the remote command does not start PPP", async () => {
    const peer = lab.writePeer('bad-cmd.yaml', {
      name: `cmd-${lab.id}`,
      remoteCommand: 'no-such-ts-vpn-command serve',
    });
    const up = await lab.startUp({ peerYaml: peer, wait: false });
    const r = await up.exited;
    expect(r.code, up.log()).toBe(6);
    expect(up.log()).toMatch(
      /ts-vpn: the far end ended before PPP came up: remote command exited with code 127: .*no-such-ts-vpn-command.*not found/,
    );
  });

  it('exits 3 when nothing listens on the SSH port', async () => {
    const file = lab.writePeer('refused.yaml', { name: `ref-${lab.id}` });
    writeFileSync(file, readFileSync(file, 'utf8').replace(/port: \d+/, 'port: 2299'));
    const up = await lab.startUp({ peerYaml: file, wait: false });
    const r = await up.exited;
    expect(r.code, up.log()).toBe(3);
    expect(up.log()).toMatch(
      /ts-vpn: ssh: connect to host 198\.18\.0\.2 port 2299: Connection refused/,
    );
  });

  it('the far end exits and removes its TUN when the SSH connection drops; the next up cleans the stale state', async () => {
    const up = await lab.startUp();
    await until(() => lab.servePids().length === 1, 5000, 'serve to run');
    expect(links(lab.srv).some((l) => l.ifname.startsWith('tsvs'))).toBe(true);
    // Kill the client hard: its TCP connection goes away, sshd closes serve's stdin.
    const r = await up.stop('SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    await until(
      () => lab.servePids().length === 0,
      10_000,
      'serve to exit after the connection dropped',
    );
    await until(
      () => !links(lab.srv).some((l) => l.ifname.startsWith('tsvs')),
      5000,
      'server TUN to go',
    );
    // The client's TUN went with its process; its state dir remains (stale lock + state.json).
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tsvpn'))).toBe(false);
    const again = await lab.startUp();
    expect(again.log()).toMatch(/previous run \(pid \d+\) did not exit cleanly/);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    expect((await again.stop('SIGTERM')).code).toBe(0);
    expect(routes(lab.cli).map((x) => x.dst)).toEqual(['198.18.0.0/30']);
    void SERVER_ADDR;
  }, 60_000);

  it('a second `up` with the same name is refused with exit 9 while the first runs', async () => {
    const first = await lab.startUp();
    const second = await lab.startUp({ wait: false });
    const r = await second.exited;
    expect(r.code, second.log()).toBe(9);
    expect(second.log()).toMatch(/already running/);
    expect((await first.stop('SIGTERM')).code).toBe(0);
  }, 60_000);
});
