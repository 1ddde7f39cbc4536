/**
 * A live tunnel moves to the second gateway of `ssh.host: [gw1, gw2]` (issue 16), with the
 * installed `ts-vpn up` in namespaces (test/support/lab.ts):
 *
 *   tv-cli (ts-vpn up) → gw1 = sshd 198.18.0.2:2231 ─┐ both run `ts-vpn serve`
 *                       → gw2 = sshd 198.18.0.2:2232 ─┘ with the lab's server.yaml
 *
 * The names gw1/gw2 come from an ssh_config file (HostName/Port). The tunnel comes up on
 * gw1; then gw1's sshd is stopped and its sessions killed (the server is gone, not just
 * the link). The client notices, reconnects with the configured backoff, finds gw1
 * refusing, comes up on gw2, asks (IPCP) for the address it had, gets it, and
 * `ts-vpn status` names gw2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ADDR, SERVER_PPP_ADDR } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { type Sshd, startSshd } from '../support/sshd.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

function count(text: string, re: RegExp): number {
  return text.match(new RegExp(re.source, 'g'))?.length ?? 0;
}

describe.skipIf(!enabled)('a live tunnel moves to the second gateway of ssh.host', () => {
  const lab = useLab({ serverEchoInterval: 1, serverEchoFailures: 2 });
  let gw1: Sshd;
  let gw2: Sshd;
  let gw1Stopped = false;

  beforeAll(async () => {
    [gw1, gw2] = await Promise.all([
      startSshd({ ns: lab.srv.name, listenAddress: SERVER_ADDR, port: 2231 }),
      startSshd({ ns: lab.srv.name, listenAddress: SERVER_ADDR, port: 2232 }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([gw1Stopped ? null : gw1?.stop(), gw2?.stop()]);
  });

  it('reconnects to gw2 with the same backoff, asks for the same address, status shows gw2', async () => {
    const sshConfig = join(lab.dir, 'failover.ssh_config');
    const knownHosts = join(lab.dir, 'failover_known_hosts');
    writeFileSync(
      knownHosts,
      `${gw1.knownHostsName} ${gw1.hostPublicKey}\n${gw2.knownHostsName} ${gw2.hostPublicKey}\n`,
    );
    writeFileSync(
      sshConfig,
      `Host gw1
  HostName ${SERVER_ADDR}
  Port 2231
  IdentityFile ${gw1.clientKeyPath}
Host gw2
  HostName ${SERVER_ADDR}
  Port 2232
  IdentityFile ${gw2.clientKeyPath}
Host *
  User root
  UserKnownHostsFile ${knownHosts}
`,
    );
    const peer = lab.writePeer('failover.yaml', {
      echoInterval: 1,
      echoFailures: 2,
      keepaliveInterval: 1,
      keepaliveCountMax: 2,
      extra: `reconnect:
  enabled: true
  holdoff: 0.5
  max-backoff: 2
`,
    });
    // The lab's peer file names one host with its own keys: make it the two-gateway list.
    const text = readFileSync(peer, 'utf8')
      .replace(
        / {2}host: .*\n {2}port: .*\n {2}user: .*\n {2}identity-files: .*\n/,
        '  host: [gw1, gw2]\n',
      )
      .replace(/ {2}host-key:\n {4}known-hosts: .*\n/, '')
      .replace('ssh:\n', `ssh:\n  config-file: ${sshConfig}\n`);
    writeFileSync(peer, text, { mode: 0o600 });
    expect(text).toContain('host: [gw1, gw2]');

    const up = await lab.startUp({ peerYaml: peer, args: ['--debug'] });
    const status = () => {
      const r = lab.runCli(['status', lab.name, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const addr = /tunnel up: \S+ (\S+) →/.exec(up.log())?.[1] ?? '';
    expect(addr).toMatch(/^10\.77\.0\.\d+$/);
    expect(status().ssh.remote).toBe(`root@${SERVER_ADDR}:2231`);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', SERVER_PPP_ADDR]).code).toBe(0);
    const mark = up.log().length;

    // gw1 goes away: the listener first (no way back in), then its live sessions (noted
    // before: once the listener is gone they are no longer its children).
    const sessions = gw1.sessionPids();
    expect(sessions.length).toBeGreaterThan(0);
    await gw1.stop();
    gw1Stopped = true;
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone with the listener */
      }
    }

    await up.waitFor(/tunnel up:[^\n]*\n[\s\S]*tunnel up:/, 45_000);
    const after = up.log().slice(mark);
    // The loss, then the configured backoff: the first retry after the holdoff (0.5 s,
    // less the time already spent noticing the loss), as with one gateway.
    expect(after).toMatch(
      /link lost: SSH connection closed by root@198\.18\.0\.2:2231; reconnecting in 0\.[0-5] s \(attempt 1\)/,
    );
    // Every reconnect tries the list in order: gw1 refuses, gw2 is used.
    expect(after).toMatch(
      /ssh: gateway 1 of 2 \(gw1\): ssh: connect to host 198\.18\.0\.2 port 2231: Connection refused; trying gw2/,
    );
    expect(after).toMatch(/ssh: using gateway 2 of 2 \(gw2\)/);
    // The first IPCP Configure-Request on the new link asks for the old address.
    const req = /sent \[IPCP ConfReq id=0x[0-9a-f]+ <addr (\S+)>/.exec(after);
    expect(req?.[1]).toBe(addr);
    expect(count(after, /tunnel up: /)).toBe(1);
    expect(/tunnel up: \S+ (\S+) →/.exec(after)?.[1]).toBe(addr);
    // status names the gateway in use, and traffic flows over it.
    expect(status().ssh.remote).toBe(`root@${SERVER_ADDR}:2232`);
    expect(gw2.log()).toMatch(/Accepted publickey for root/);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', SERVER_PPP_ADDR]).code).toBe(0);
    expect((await up.stop()).code).toBe(0);
  });
});
