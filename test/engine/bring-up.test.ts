/** Two engines over an in-memory link with a fake clock: plain bring-up and shutdown. */

import { describe, expect, it } from 'vitest';
import { eventsOf, Link } from './support/link.js';

const A = { ipcp: { local: '10.0.0.1', peer: '10.0.0.2' } };
const B = { ipcp: { local: '10.0.0.2', peer: '10.0.0.1' } };

describe('two engines', () => {
  it('bring up LCP, IPCP and IPv6CP', () => {
    const l = new Link(A, { ...B, lcp: { silent: true } });
    l.start(10_000);
    for (const s of [l.a, l.b]) {
      expect(s.engine.phase).toBe('network');
      expect(eventsOf(s, 'lcp-up')).toHaveLength(1);
      expect(eventsOf(s, 'ipv4-up')).toHaveLength(1);
      expect(eventsOf(s, 'ipv6-up')).toHaveLength(1);
      expect(s.engine.stats().states).toEqual({ lcp: 'Opened', ipcp: 'Opened', ipv6cp: 'Opened' });
    }
    expect(eventsOf(l.a, 'ipv4-up')[0]).toEqual({
      type: 'ipv4-up',
      local: '10.0.0.1',
      peer: '10.0.0.2',
      dns: [],
    });
    const a6 = eventsOf(l.a, 'ipv6-up')[0];
    const b6 = eventsOf(l.b, 'ipv6-up')[0];
    expect(a6.local).toBe(b6.peer);
    expect(a6.peer).toBe(b6.local);
    expect(a6.local.startsWith('fe80::')).toBe(true);
  });

  it('carry IPv4 and IPv6 packets once the NCPs are open', () => {
    const l = new Link(A, B);
    const v4 = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    expect(l.a.engine.sendIp(v4, 0)).toBe(false); // not up yet
    l.start(10_000);
    const v6 = new Uint8Array(40);
    v6[0] = 0x60;
    expect(l.a.engine.sendIp(v4, l.now)).toBe(true);
    expect(l.a.engine.sendIp(v6, l.now)).toBe(true);
    l.pump();
    expect(l.b.ip.map((p) => p.version)).toEqual([4, 6]);
    expect(l.b.ip[0].packet).toEqual(v4);
    expect(l.a.engine.stats().protocols.ipv4.drops).toBe(1);
  });

  it('shut down with one LCP Terminate-Request "User request"', () => {
    const l = new Link(A, B);
    l.start(10_000);
    l.a.engine.close(l.now);
    l.runUntil(l.now + 10_000);
    expect(l.trace.filter((t) => t.includes('TermReq'))).toEqual([
      'A: sent [LCP TermReq id=0x2 "User request"]',
      'B: rcvd [LCP TermReq id=0x2 "User request"]',
    ]);
    expect(eventsOf(l.a, 'finished')).toEqual([
      { type: 'finished', reason: 'User request', cause: 'local-close' },
    ]);
    expect(eventsOf(l.b, 'finished')).toEqual([
      {
        type: 'finished',
        reason: 'LCP terminated by peer (User request)',
        cause: 'peer-terminated',
      },
    ]);
    expect(eventsOf(l.a, 'ipv4-down')).toHaveLength(1);
    expect(l.a.engine.phase).toBe('dead');
    expect(l.b.engine.phase).toBe('dead');
  });
});
