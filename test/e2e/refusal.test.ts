/**
 * End to end, refusals that retrying cannot fix (issue 12 §2): a PPP authentication
 * failure, and a far end that offers an address outside `accept-local`. With
 * reconnect on (the default), `ts-vpn up` ends at once with exit 6 and the reason,
 * instead of reconnecting for ever; `ts-vpn serve` ends its session with the reason.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, links, NODE, until } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

const GOOD = 'R1ghtPapPassword';
const WRONG = 'Wr0ngPapPassword';
const RECONNECT_ON = 'reconnect:\n  enabled: true\n  holdoff: 1\n';

describe.skipIf(!enabled)('refusals end the tunnel (no reconnect loop)', () => {
  const lab = useLab();
  const tsvpnLinks = () => links(lab.cli).filter((l) => l.ifname.startsWith('tsvpn'));

  /** `ts-vpn serve` with `serverYaml`, its stderr kept in a file of the lab. */
  function serve(tag: string, serverYaml: string): { command: string; log: string } {
    const log = join(lab.dir, `serve-${tag}.log`);
    return { command: `${NODE} ${CLI} serve --config ${serverYaml} 2>>${log}`, log };
  }

  it('a wrong PAP password ends `up` with exit 6 at once, without reconnecting', async () => {
    const secret = join(lab.dir, 'pap-srv.secret');
    writeFileSync(secret, `${GOOD}\n`, { mode: 0o600 });
    const yaml = join(lab.dir, 'server-pap.yaml');
    writeFileSync(
      yaml,
      `pool: 10.77.0.0/24
state-dir: ${join(lab.dir, 'srv-pap')}
auth:
  require: pap
  users:
    - { user: alice, password-file: ${secret} }
`,
    );
    const cliSecret = join(lab.dir, 'pap-cli.secret');
    writeFileSync(cliSecret, `${WRONG}\n`, { mode: 0o600 });
    const s = serve('pap', yaml);
    const up = await lab.startUp({
      peerYaml: lab.writePeer('peer-pap.yaml', {
        name: `rp-${lab.id}`,
        remoteCommand: s.command,
        ppp: `  auth:\n    user: alice\n    password-file: ${cliSecret}\n`,
        extra: RECONNECT_ON,
      }),
      wait: false,
    });
    const r = await up.exited;
    const log = up.log();
    expect(r.code, log).toBe(6);
    expect(log).toMatch(/^ts-vpn: PPP authentication failed: Login incorrect$/m);
    expect(log).toMatch(/not retrying \(set reconnect\.on-refusal: retry/);
    expect(log).not.toMatch(/reconnecting in/);
    expect(tsvpnLinks()).toEqual([]);
    await until(() => lab.servePids().length === 0, 15_000, 'serve to exit');
    expect(readFileSync(s.log, 'utf8')).toMatch(/session ended: PPP authentication failed/);
  }, 60_000);

  it('a far end offering an address outside accept-local: both ends end with the reason', async () => {
    const s = serve('addr', lab.serverYaml);
    const peerYaml = lab.writePeer('peer-addr.yaml', {
      name: `ra-${lab.id}`,
      remoteCommand: s.command,
      extra: RECONNECT_ON,
    });
    // The server's pool is 10.77.0.0/24: nothing it offers is acceptable.
    const text = readFileSync(peerYaml, 'utf8');
    expect(text).toMatch(/^ {2}accept-local: \[10\.77\.0\.0\/24\]$/m);
    writeFileSync(peerYaml, text.replace(/^( {2}accept-local: )\[.*\]$/m, '$1[10.99.0.0/24]'));
    const up = await lab.startUp({ peerYaml, wait: false });
    const r = await up.exited;
    const log = up.log();
    expect(r.code, log).toBe(6);
    // The reason names the protocol, the option and the address.
    expect(log).toMatch(
      /^ts-vpn: PPP negotiation failed: IPCP failed: .*10\.77\.0\.\d+, outside accept-local/m,
    );
    expect(log).not.toMatch(/reconnecting in/);
    expect(log).not.toMatch(/tunnel up:/);
    expect(tsvpnLinks()).toEqual([]);
    await until(() => lab.servePids().length === 0, 20_000, 'serve to exit');
    await until(() => existsSync(s.log), 5_000, 'the serve log');
    expect(readFileSync(s.log, 'utf8')).toMatch(
      /session ended: .*IPCP failed: .*10\.77\.0\.\d+, outside accept-local/,
    );
  }, 120_000);
});
