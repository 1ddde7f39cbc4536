/**
 * End to end through a jump host, in namespaces (test/support/lab.ts):
 *
 *   tv-cli (ts-vpn up) → bastion sshd in tv-srv (198.18.0.2:2222) → gateway sshd in tv-lan
 *   (198.18.16.2:2222, reachable only from tv-srv) running `ts-vpn serve`.
 *
 * The peer file names only `host: gw`; an ssh_config (ssh.config-file, never the real
 * ~/.ssh) gives HostName/Port/User/IdentityFile and `ProxyJump bastion`. The gateway's
 * known_hosts entry is ECDSA only and hashed while the gateway also has an Ed25519 key.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAN_ADDR, SERVER_ADDR, SERVER_PPP_ADDR } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { type Sshd, startSshd } from '../support/sshd.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

describe.skipIf(!enabled)('ts-vpn up through a ProxyJump bastion (ssh_config alias)', () => {
  const lab = useLab();
  let gw: Sshd;
  let knownHosts: string;

  beforeAll(async () => {
    gw = await startSshd({
      ns: lab.lan.name,
      listenAddress: LAN_ADDR,
      port: 2222,
      hostKeyType: 'ed25519',
      extraHostKeyTypes: ['ecdsa'],
    });
    // Bastion: its own line; gateway: only its ECDSA key, hashed by ssh-keygen -H.
    knownHosts = join(lab.dir, 'jump_known_hosts');
    const ecdsa = gw.hostKeys.find((k) => k.type === 'ecdsa')!.publicKey.split(' ');
    writeFileSync(
      knownHosts,
      `${readFileSync(lab.sshd.knownHostsPath, 'utf8')}${gw.knownHostsName} ${ecdsa[0]} ${ecdsa[1]}\n`,
    );
    execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  function files(name: string, bastionKnownHosts: string) {
    const sshConfig = join(lab.dir, `${name}.ssh_config`);
    writeFileSync(
      sshConfig,
      `Host gw
  HostName ${LAN_ADDR}
  Port 2222
  User root
  IdentityFile ${gw.clientKeyPath}
  UserKnownHostsFile ${knownHosts}
  ProxyJump bastion
Host bastion
  HostName ${SERVER_ADDR}
  Port 2222
  User root
  IdentityFile ${lab.sshd.clientKeyPath}
  UserKnownHostsFile ${bastionKnownHosts}
  ServerAliveInterval 5
`,
    );
    const peer = lab.writePeer(`${name}.yaml`, {
      name: `jump-${lab.id}`,
      ssh: `  host: gw\n  config-file: ${sshConfig}\n  agent: false`,
      routes: [],
    });
    return { peer, sshConfig };
  }

  it('check shows the values from the ssh_config alias with file:line', () => {
    const { peer, sshConfig } = files('check', knownHosts);
    const r = lab.runCli(['check', peer]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`host: ${LAN_ADDR} (for gw)  [${sshConfig}:2]`);
    expect(r.stdout).toContain(`port: 2222  [${sshConfig}:3]`);
    expect(r.stdout).toContain(`jump: bastion  [${sshConfig}:7]`);
  });

  it('brings the tunnel up through the bastion, both host keys checked', async () => {
    const { peer } = files('ok', knownHosts);
    // The gateway is not reachable from the client namespace directly.
    expect(lab.cli.try('ping', ['-c', '1', '-W', '1', LAN_ADDR]).code).not.toBe(0);
    const up = await lab.startUp({ peerYaml: peer, args: ['--debug'] });
    try {
      const log = up.log();
      expect(log).toMatch(/ssh: jump host 1 of 1 \(bastion\): root@198\.18\.0\.2:2222/);
      expect(log).toMatch(
        /jump host 1 of 1 \(bastion\): .*host key .* verified|jump host 1 of 1 \(bastion\)/,
      );
      expect(log).toMatch(
        new RegExp(
          `ssh: connected in \\d+ ms \\(.*host key ${gw.hostKeys[1].fingerprint.replace(/[+/]/g, '\\$&')} verified by known_hosts`,
        ),
      );
      expect(log).toMatch(/tunnel up: /);
      expect(lab.cli.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', SERVER_PPP_ADDR]).code).toBe(
        0,
      );
      // The gateway was reached from the bastion's side (the server namespace's LAN address).
      expect(gw.log()).toMatch(
        /Connection from 198\.18\.16\.1 port \d+ on 198\.18\.16\.2 port 2222/,
      );
    } finally {
      expect((await up.stop()).code).toBe(0);
    }
  });

  it('refuses a wrong bastion key and names the jump host (exit for host keys)', async () => {
    const wrong = join(lab.dir, 'wrong_bastion_known_hosts');
    const [kt, kb] = gw.hostPublicKey.split(' ');
    writeFileSync(wrong, `${lab.sshd.knownHostsName} ${kt} ${kb}\n`);
    const { peer } = files('wrong', wrong);
    const before = gw.log().length;
    const up = await lab.startUp({ peerYaml: peer, wait: false });
    const r = await up.exited;
    expect(r.code).toBe(4);
    expect(up.log()).toMatch(/jump host 1 of 1 \(bastion\): host key mismatch/);
    expect(gw.log().slice(before)).not.toMatch(/Accepted publickey/);
  });
});
