/**
 * What a SIGHUP applies (src/gateway/reload.ts) and the address book's reserved
 * addresses after a reload. The daemon's side is in test/e2e/gateway.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fixedAddresses, parseGatewayConfig } from '../../src/config/gateway.js';
import { AddressBook } from '../../src/gateway/pool.js';
import { planReload } from '../../src/gateway/reload.js';
import { ENV } from '../config/fixtures.js';

const BASE = `local-address: 10.77.0.1
pools: { main: 10.77.0.0/24 }
users: { alice: { address: 10.77.0.10 } }
unknown-users: refuse
lan-interface: eth0
proxy-arp: true
`;
const cfg = (text: string) => parseGatewayConfig(text, 'gw.yaml', ENV);

describe('planReload', () => {
  it('takes the per-user part of the file and keeps what was set up at start, naming it', () => {
    const running = cfg(BASE);
    const next = cfg(
      `${BASE.replace('proxy-arp: true', 'proxy-arp: false').replace('pools: { main: 10.77.0.0/24 }', 'pools: { main: 10.77.0.0/24, more: 10.78.0.0/24 }')}` +
        'groups: { lab: { max-sessions: 2 } }\nmax-sessions: 10\necho-interval: 5\n',
    );
    const plan = planReload(running, next, false);
    if ('error' in plan) throw new Error(plan.error);
    expect(plan.restartNeeded).toEqual(['pool/pools', 'proxy-arp']);
    expect(plan.cfg.proxyArp).toBe(true);
    expect(plan.cfg.pools.map((p) => p.name)).toEqual(['main']);
    expect(plan.cfg.groups.get('lab')?.maxSessions).toBe(2);
    expect(plan.cfg.maxSessions).toBe(10);
    expect(plan.cfg.echoIntervalMs).toBe(5000);
    expect(plan.cfg.source).toBe(running.source);
  });

  it('says why a file cannot be served without a restart', () => {
    const running = cfg(BASE);
    const newPool = planReload(
      running,
      cfg(
        `${BASE.replace('pools: { main: 10.77.0.0/24 }', 'pools: { main: 10.77.0.0/24, lab: 10.78.0.0/24 }')}groups: { lab: { pool: lab } }\n`,
      ),
      false,
    );
    expect(newPool).toEqual({
      error:
        'groups.lab.pool: pool lab exists only in the file, not in the running gateway (pools change on restart)',
    });
    const v6 = planReload(running, cfg(`${BASE}defaults: { routes: ["2001:db8::/32"] }\n`), false);
    expect('error' in v6 && v6.error).toMatch(/IPv6 forwarding, which is checked only at start/);
    expect(
      'error' in planReload(running, cfg(`${BASE}defaults: { routes: ["2001:db8::/32"] }\n`), true),
    ).toBe(false);
  });

  it('lists every fixed address of the policies', () => {
    const text = BASE.replace(
      'users: { alice: { address: 10.77.0.10 } }',
      'users: { alice: { address: 10.77.0.10 }, bob: { address: 10.77.0.20 }, carol: {} }',
    );
    expect(fixedAddresses(cfg(text)).sort()).toEqual(['10.77.0.10', '10.77.0.20']);
  });
});

describe('AddressBook.setReserved', () => {
  const POOLS = [{ name: 'a', text: '10.0.0.0/29', first: '10.0.0.1', last: '10.0.0.6' }];

  it('keeps newly reserved addresses out of the pool, leaves held ones to their session', () => {
    const book = new AddressBook(POOLS, ['10.0.0.1']);
    expect(book.lease('a', 's1')).toBe('10.0.0.2');
    expect(book.free('a')).toBe(4);
    book.setReserved(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    // 10.0.0.2 stays s1's; 10.0.0.3 is no longer leased.
    expect(book.owner('10.0.0.2')).toBe('s1');
    expect(book.free('a')).toBe(3);
    expect(book.lease('a', 's2')).toBe('10.0.0.4');
    book.release('10.0.0.2', 's1');
    expect(book.free('a')).toBe(2);
    expect(book.lease('a', 's3')).toBe('10.0.0.5');
    expect(book.lease('a', 's4')).toBe('10.0.0.6');
    expect(book.lease('a', 's5')).toBeNull();
    // Un-reserving gives addresses back to the pool.
    book.setReserved([]);
    expect(book.free('a')).toBe(3);
    expect(book.lease('a', 's6')).toBe('10.0.0.1');
  });
});
