import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressPool } from '../../src/runtime/address-pool.js';

describe('AddressPool', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'tsvpn-pool-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('hands out distinct addresses to concurrent sessions and skips reserved ones', () => {
    const pool = new AddressPool('10.77.0.0/29', fresh(), ['10.77.0.1']);
    const a = pool.lease(process.pid);
    const b = pool.lease(process.ppid);
    expect(a).toBe('10.77.0.2');
    expect(b).toBe('10.77.0.3');
  });

  it('honours a wanted address when free and reuses a lease of the same pid', () => {
    const pool = new AddressPool('10.77.0.0/24', fresh(), ['10.77.0.1']);
    expect(pool.lease(process.pid, '10.77.0.9')).toBe('10.77.0.9');
    expect(pool.lease(process.pid, '10.77.0.9')).toBe('10.77.0.9');
  });

  it('takes over leases of dead processes and throws when exhausted', () => {
    const dir = fresh();
    const pool = new AddressPool('10.77.0.0/30', dir, ['10.77.0.1']);
    expect(pool.lease(2 ** 22 + 12345)).toBe('10.77.0.2'); // pid that cannot exist
    expect(pool.lease(process.pid)).toBe('10.77.0.2');
    expect(() => pool.lease(process.ppid)).toThrow(/exhausted/);
    pool.release('10.77.0.2', process.pid);
    expect(pool.lease(process.ppid)).toBe('10.77.0.2');
  });

  it('says whether an address lies in the pool', () => {
    const pool = new AddressPool('198.18.0.0/15', fresh());
    expect(pool.contains('198.19.1.1')).toBe(true);
    expect(pool.contains('198.20.0.1')).toBe(false);
    expect(pool.contains('198.19.1.256')).toBe(false);
  });
});
