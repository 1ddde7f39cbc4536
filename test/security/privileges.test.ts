/**
 * `up` and `serve` drop privileges once the TUN device exists (issue 15 item 6), shown
 * by /proc/PID/status of the real processes in the lab: CapEff and CapBnd hold only
 * CAP_NET_ADMIN (bit 12 = 0x1000), and with `tunnel.user` every thread (glibc's setxid
 * broadcast) runs as that user. The tunnel still works and still cleans up (routes,
 * state directory) with what it kept.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAN_ADDR, routes } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { procStatus as status } from '../support/proc-status.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('privilege tests');

describe.skipIf(!enabled)('privileges of a running tunnel', () => {
  const lab = useLab();

  it('up and serve keep only CAP_NET_ADMIN (CapEff, CapBnd); the tunnel works and cleans up', async () => {
    const up = await lab.startUp();
    const st = status(up.pid);
    console.log(
      `[privileges] up pid ${up.pid}: CapEff: ${st.CapEff} CapBnd: ${st.CapBnd} Uid: ${st.Uid}`,
    );
    expect(st.CapEff).toBe('0000000000001000');
    expect(st.CapPrm).toBe('0000000000001000');
    expect(st.CapBnd).toBe('0000000000001000');
    expect(st.Uid.split(/\s+/)).toEqual(['0', '0', '0', '0']);
    expect(up.log()).toContain('privileges: kept CAP_NET_ADMIN only');
    const serve = lab.servePids();
    expect(serve.length).toBeGreaterThan(0);
    for (const pid of serve) expect(status(pid).CapEff).toBe('0000000000001000');
    expect(lab.cli.try('ping', ['-c', '1', '-w', '5', LAN_ADDR]).code).toBe(0);
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    expect(routes(lab.cli).filter((x) => x.dev?.startsWith('tsvpn'))).toEqual([]);
  }, 60_000);

  it('tunnel.user: nobody — every thread runs as 65534, CAP_NET_ADMIN kept (plus read access for the root-only key), clean stop', async () => {
    const peer = lab.writePeer('nobody.yaml', { name: `nb-${lab.id}` });
    writeFileSync(
      peer,
      readFileSync(peer, 'utf8').replace(
        'tunnel:\n',
        'tunnel:\n  user: nobody\n  group: "65534"\n',
      ),
    );
    const up = await lab.startUp({ peerYaml: peer });
    const st = status(up.pid);
    console.log(
      `[privileges] up (user nobody) pid ${up.pid}: CapEff: ${st.CapEff} CapBnd: ${st.CapBnd} Uid: ${st.Uid}`,
    );
    expect(st.Uid.split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(st.Gid.split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(st.Groups).toBe('65534');
    // The lab's identity file is root's (0600 in a 0700 dir): a reconnect must still read it.
    expect(st.CapEff).toBe('0000000000001004');
    expect(st.CapBnd).toBe('0000000000001004');
    expect(up.log()).toContain('privileges: keeping CAP_DAC_READ_SEARCH: a reconnect reads');
    const tasks = readdirSync(`/proc/${up.pid}/task`);
    expect(tasks.length).toBeGreaterThan(1);
    for (const t of tasks) expect(status(up.pid, t).Uid.split(/\s+/)[1]).toBe('65534');
    expect(lab.cli.try('ping', ['-c', '1', '-w', '5', LAN_ADDR]).code).toBe(0);
    const r = await up.stop('SIGTERM');
    expect(r.code, up.log()).toBe(0);
    expect(routes(lab.cli).filter((x) => x.dev?.startsWith('tsvpn'))).toEqual([]);
  }, 60_000);
});
