/**
 * End to end: PPP authentication (PAP and CHAP) on top of SSH, through the real
 * product — `ts-vpn up` in the client namespace ↔ `ts-vpn serve` over a real sshd.
 * Every test also checks that the secret appears in no log line: neither the
 * client's own log (with --debug) nor the serve stderr surfaced as `remote:` lines
 * (serve runs with --debug too).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, LAN_ADDR, links, NODE, SERVER_PPP_ADDR } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

// Distinct, greppable secrets (no regex metacharacters).
const GOOD = 'Corr3ctHorseBatteryStaple';
const WRONG = 'Wr0ngHorseBatteryStaple';

describe.skipIf(!enabled)('PPP authentication (PAP, CHAP) end to end', () => {
  const lab = useLab();

  /** A server.yaml requiring `require`, user alice with GOOD in a 0600 password file. */
  function serverWith(require: 'pap' | 'chap', tag: string): string {
    const secret = join(lab.dir, `srv-${tag}.secret`);
    writeFileSync(secret, `${GOOD}\n`, { mode: 0o600 });
    const yaml = join(lab.dir, `server-${tag}.yaml`);
    writeFileSync(
      yaml,
      `pool: 10.77.0.0/24
state-dir: ${join(lab.dir, `srv-${tag}`)}
echo-interval: 5
auth:
  require: ${require}
  name: lab-server
  users:
    - { user: alice, password-file: ${secret} }
`,
    );
    return `${NODE} ${CLI} serve --config ${yaml} --debug`;
  }

  /** A peer.yaml whose ppp.auth is alice / `password` (in a password file of `fileMode`). */
  function peerWith(
    tag: string,
    remoteCommand: string,
    password: string,
    fileMode = 0o600,
  ): string {
    const secret = join(lab.dir, `cli-${tag}.secret`);
    writeFileSync(secret, `${password}\n`);
    chmodSync(secret, fileMode);
    return lab.writePeer(`peer-${tag}.yaml`, {
      name: `au${tag}-${lab.id}`,
      remoteCommand,
      ppp: `  auth:\n    user: alice\n    password-file: ${secret}\n`,
    });
  }

  function expectNoSecret(text: string, ...secrets: string[]): void {
    for (const s of secrets) {
      const hits = text.split('\n').filter((l) => l.includes(s));
      expect(hits, `secret leaked in log lines:\n${hits.join('\n')}`).toEqual([]);
    }
  }

  const tsvpnLinks = () => links(lab.cli).filter((l) => l.ifname.startsWith('tsvpn'));

  it('CHAP required, right credentials: up, ping works, CHAP exchange logged, no secret', async () => {
    const up = await lab.startUp({
      peerYaml: peerWith('chap', serverWith('chap', 'chap'), GOOD),
      args: ['--debug'],
    });
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', SERVER_PPP_ADDR]).code).toBe(0);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    const r = await up.stop('SIGTERM');
    const log = up.log();
    expect(r.code, log).toBe(0);
    // The client's own packet log (pppd style): challenge in, response out, success in.
    expect(log).toMatch(/rcvd \[CHAP Challenge id=0x[0-9a-f]+ <[0-9a-f]+>, name = "lab-server"\]/);
    expect(log).toMatch(/sent \[CHAP Response id=0x[0-9a-f]+ <[0-9a-f]{32}>, name = "alice"\]/);
    expect(log).toMatch(/rcvd \[CHAP Success id=0x[0-9a-f]+/);
    expect(log).toMatch(/ppp: authenticated to the far end/);
    // serve's stderr reaches us as `remote:` lines (its --debug log included).
    expect(log).toMatch(/remote: .*CHAP/);
    expectNoSecret(log, GOOD);
    expect(tsvpnLinks()).toEqual([]);
  }, 30_000);

  it('PAP required, right credentials: up, the AuthReq is logged with password=<hidden>', async () => {
    const up = await lab.startUp({
      peerYaml: peerWith('pap', serverWith('pap', 'pap'), GOOD),
      args: ['--debug'],
    });
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    const r = await up.stop('SIGTERM');
    const log = up.log();
    expect(r.code, log).toBe(0);
    expect(log).toMatch(/sent \[PAP AuthReq id=0x[0-9a-f]+ user="alice" password=<hidden>\]/);
    expect(log).toMatch(/rcvd \[PAP AuthAck id=0x[0-9a-f]+/);
    expect(log).toMatch(/remote: .*PAP AuthReq .*password=<hidden>/);
    expectNoSecret(log, GOOD);
  }, 30_000);

  for (const require of ['chap', 'pap'] as const) {
    it(`${require.toUpperCase()} with a wrong password: exit 6, authentication named, nothing configured, no secret`, async () => {
      const tag = `bad${require}`;
      const up = await lab.startUp({
        peerYaml: peerWith(tag, serverWith(require, tag), WRONG),
        args: ['--debug'],
        wait: false,
      });
      const r = await up.exited;
      const log = up.log();
      expect(r.code, log).toBe(6);
      // The reason, as the last words of `up`, and the server's side of it.
      expect(log).toMatch(
        require === 'chap'
          ? /^ts-vpn: PPP authentication failed: Access denied$/m
          : /^ts-vpn: PPP authentication failed: Login incorrect$/m,
      );
      expect(log).toMatch(
        new RegExp(
          `remote: .*authentication failed: ${require.toUpperCase()} peer authentication failed for alice`,
        ),
      );
      expect(log).not.toMatch(/tunnel up:/);
      expect(tsvpnLinks()).toEqual([]);
      expectNoSecret(log, WRONG, GOOD);
    }, 30_000);
  }

  it('a password-file readable by others: exit 2 naming the field and the chmod fix', async () => {
    const peer = peerWith('open', serverWith('chap', 'open'), GOOD, 0o644);
    const check = lab.runCli(['check', peer]);
    const up = await lab.startUp({ peerYaml: peer, wait: false });
    const r = await up.exited;
    for (const out of [up.log(), check.stdout + check.stderr]) {
      expect(out).toMatch(/ppp\.auth\.password-file/);
      expect(out).toMatch(/readable by others \(mode 0644\); run chmod 600 \S+cli-open\.secret/);
      expectNoSecret(out, GOOD);
    }
    // Refused before anything happens: no SSH connection was even tried.
    expect(up.log()).not.toMatch(/connecting to/);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(r.code, up.log()).toBe(2);
    expect(tsvpnLinks()).toEqual([]);
  }, 20_000);
});
