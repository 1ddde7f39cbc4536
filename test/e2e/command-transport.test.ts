/**
 * End to end: `ts-vpn up` with `remote.transport: command` (like pppd's `pty`): the client
 * runs a local program and speaks PPP over its stdin/stdout. Here the program is
 * `ip netns exec <server ns> ts-vpn serve`, so no SSH is involved at all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, LAN_ADDR, LAN_NET, NODE, POOL, routes, SERVER_PPP_ADDR } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

describe.skipIf(!enabled)('ts-vpn up with remote.transport: command', () => {
  const lab = useLab();

  function peer(file: string, command: string): string {
    const p = join(lab.dir, file);
    writeFileSync(
      p,
      `name: cmd-${lab.id}
remote:
  transport: command
  command: ${JSON.stringify(command)}
  kind: ts-vpn
ppp:
  accept-local: [${POOL}]
  accept-peer: [${POOL}]
routes: [${LAN_NET}]
dns:
  write-to: ${join(lab.dir, 'cmd-resolv.conf')}
reconnect:
  enabled: false
`,
      { mode: 0o600 },
    );
    return p;
  }

  it('brings the tunnel up through a local command and carries traffic', async () => {
    const yaml = peer(
      'cmd.yaml',
      `ip netns exec ${lab.srv.name} ${NODE} ${CLI} serve --config ${lab.serverYaml}`,
    );
    const up = await lab.startUp({ peerYaml: yaml });
    try {
      const log = up.log();
      expect(log).toMatch(/connecting to command "ip netns exec/);
      expect(log).toMatch(/command: started "ip netns exec .*" \(pid \d+\)/);
      expect(log).not.toMatch(/ssh: connected/);
      expect(log).toMatch(/tunnel up: tsvpn0 10\.77\.0\.\d+ → 10\.77\.0\.1/);
      expect(routes(lab.cli).find((r) => r.dst === LAN_NET)?.dev).toBe('tsvpn0');
      expect(lab.cli.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', SERVER_PPP_ADDR]).code).toBe(
        0,
      );
      expect(lab.cli.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', LAN_ADDR]).code).toBe(0);
      const st = lab.runCli(['status', '--json']);
      expect(st.code).toBe(0);
      expect(st.stdout).toMatch(/"remote": "ip netns exec/);
    } finally {
      const r = await up.stop();
      expect(r.code).toBe(0);
    }
    // The command's process group went with the tunnel: no serve left in the server ns.
    expect(lab.servePids()).toEqual([]);
  });

  it('says what the command printed when it exits before PPP comes up', async () => {
    const yaml = peer('cmd-fail.yaml', 'printf "no %s\\n" route-to-gw >&2; exit 3');
    const up = await lab.startUp({ peerYaml: yaml, wait: false });
    const r = await up.exited;
    expect(r.code).not.toBe(0);
    expect(up.log()).toMatch(/remote: no route-to-gw/);
    expect(up.log()).toMatch(/command exited with code 3/);
  });
});
