/** Bring-up against a scripted pppd-like peer with default pppd options. */

import { describe, expect, it } from 'vitest';
import { PeerLink } from './support/peer-link.js';
import { pppdPeer } from './support/pppd-peer.js';

describe('against a pppd-like peer', () => {
  it('Protocol-Rejects CCP, Configure-Rejects VJ, and comes up', () => {
    const peer = pppdPeer({
      magic: 0x4bdad897,
      addr: '10.64.0.1',
      ipv6Id: '70 4e dd cc e2 96 10 78',
      ccp: true,
    });
    const l = new PeerLink(
      { ipcp: { local: '10.64.0.2', peer: '10.64.0.1' }, lcp: { echoIntervalMs: 5000 } },
      peer,
    );
    l.engine.open(0);
    l.runUntil(12_000);
    const sent = l.us.log.filter((x) => x.startsWith('sent ['));
    expect(
      sent.some((x) =>
        /^sent \[LCP ProtRej id=0x\w+ 80 fd 01 01 00 0f 1a 04 78 00 18 04 78 00 15 03 2f\]$/.test(
          x,
        ),
      ),
    ).toBe(true);
    expect(sent).toContain('sent [IPCP ConfRej id=0x1 <compress VJ 0f 01>]');
    expect(sent).toContain('sent [IPCP ConfAck id=0x2 <addr 10.64.0.1>]');
    expect(l.events('ipv4-up')).toEqual([
      { type: 'ipv4-up', local: '10.64.0.2', peer: '10.64.0.1', dns: [] },
    ]);
    expect(l.events('ipv6-up')[0].peer).toBe('fe80::704e:ddcc:e296:1078');
    expect(l.events('echo-rtt').length).toBeGreaterThanOrEqual(2);
    // Our first LCP request looks like pppd's.
    expect(sent[0]).toMatch(
      /^sent \[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x[0-9a-f]+> <pcomp> <accomp>\]$/,
    );
    // Frames after LCP is up use the negotiated framing: no ff 03 and raw control characters
    // for Echo/ProtRej/NCPs, but LCP codes 1-7 still go out with ff 03.
    const st = l.engine.stats();
    expect(st.protocolRejectsSent).toBe(1);
    expect(st.states).toEqual({ lcp: 'Opened', ipcp: 'Opened', ipv6cp: 'Opened' });
    l.engine.close(l.now);
    l.runUntil(l.now + 5000);
    expect(l.events('finished')).toEqual([
      { type: 'finished', reason: 'User request', cause: 'local-close' },
    ]);
    if (process.env.PRINT_TRACE) console.log(l.trace.join('\n'));
  });
});
