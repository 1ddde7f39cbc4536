import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../../src/runtime/reconnect-policy.js';

const noJitter = () => 0;

function delays(p: ReconnectPolicy, n: number, now = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(p.onFailure('connect refused', now + i).delayMs);
  return out;
}

describe('ReconnectPolicy', () => {
  it('starts at holdoff and doubles each failure in a row', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 60_000,
      maxFail: 0,
      random: noJitter,
    });
    expect(delays(p, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('caps the wait at maxBackoff', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 10_000,
      maxFail: 0,
      random: noJitter,
    });
    expect(delays(p, 7)).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });

  it('never overflows after very many failures', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 60_000,
      maxFail: 0,
      random: noJitter,
    });
    const d = delays(p, 3000);
    expect(d.at(-1)).toBe(60_000);
    expect(d.every((x) => Number.isFinite(x) && x <= 60_000)).toBe(true);
  });

  it('holdoff 0 retries at once, then backs off from 1 s', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 0,
      maxBackoffMs: 5000,
      maxFail: 0,
      random: noJitter,
    });
    expect(delays(p, 5)).toEqual([0, 2000, 4000, 5000, 5000]);
  });

  it('jitter only shortens the wait, by at most the jitter fraction', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 8000,
      maxFail: 0,
      jitter: 0.25,
      random: () => 0.999999,
    });
    expect(delays(p, 5)).toEqual([750, 1500, 3000, 6000, 6000]);
    const q = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 8000,
      maxFail: 0,
      random: () => 0.5,
    });
    expect(delays(q, 2)).toEqual([900, 1800]); // default jitter 0.2
  });

  it('maxFail 0 retries forever', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 10,
      maxBackoffMs: 100,
      maxFail: 0,
      random: noJitter,
    });
    for (let i = 1; i <= 10_000; i++) {
      const d = p.onFailure('x', i);
      expect(d.retry).toBe(true);
      expect(d.attempt).toBe(i);
    }
  });

  it('gives up on the maxFail-th failure in a row, like pppd', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 60_000,
      maxFail: 3,
      random: noJitter,
    });
    expect(p.onFailure('a', 0)).toEqual({ retry: true, delayMs: 1000, attempt: 1, failures: 1 });
    expect(p.onFailure('b', 1)).toEqual({ retry: true, delayMs: 2000, attempt: 2, failures: 2 });
    expect(p.onFailure('c', 2)).toEqual({
      retry: false,
      delayMs: 0,
      attempt: 3,
      failures: 3,
      giveUp: '3 failures in a row (max-fail 3)',
    });
  });

  it('maxFail 1 gives up at the first failure', () => {
    const p = new ReconnectPolicy({ holdoffMs: 1000, maxBackoffMs: 1000, maxFail: 1 });
    expect(p.onFailure('x', 0)).toMatchObject({
      retry: false,
      giveUp: '1 failure in a row (max-fail 1)',
    });
  });

  it('disabled reconnect never retries', () => {
    const p = new ReconnectPolicy({
      enabled: false,
      holdoffMs: 1000,
      maxBackoffMs: 1000,
      maxFail: 0,
    });
    expect(p.onFailure('x', 0)).toMatchObject({ retry: false, giveUp: 'reconnect is disabled' });
  });

  it('a permanent failure is not retried', () => {
    const p = new ReconnectPolicy({ holdoffMs: 1000, maxBackoffMs: 1000, maxFail: 0 });
    expect(p.onFailure('host key changed', 0, { permanent: true })).toMatchObject({
      retry: false,
      giveUp: 'host key changed (not retried)',
    });
  });

  it('a link that stayed up for stableMs resets the count', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 60_000,
      maxFail: 3,
      stableMs: 30_000,
      random: noJitter,
    });
    p.onFailure('a', 0);
    p.onFailure('b', 1000);
    p.onUp(5000);
    const d = p.onFailure('echo timeout', 5000 + 30_000);
    expect(d).toEqual({ retry: true, delayMs: 1000, attempt: 1, failures: 1 });
  });

  it('a flapping link (down before stableMs) keeps backing off and counts toward maxFail', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 60_000,
      maxFail: 3,
      stableMs: 30_000,
      random: noJitter,
    });
    expect(p.onFailure('a', 0).delayMs).toBe(1000);
    p.onUp(2000);
    expect(p.onFailure('b', 2000 + 29_999).delayMs).toBe(2000);
    p.onUp(40_000);
    expect(p.onFailure('c', 41_000)).toMatchObject({ retry: false, failures: 3 });
  });

  it('onSuccess resets the count', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 500,
      maxBackoffMs: 60_000,
      maxFail: 0,
      random: noJitter,
    });
    delays(p, 4);
    p.onSuccess();
    expect(p.onFailure('x', 10).delayMs).toBe(500);
  });

  it('tracks reconnects, the last reason and time to recover', () => {
    const p = new ReconnectPolicy({
      holdoffMs: 1000,
      maxBackoffMs: 60_000,
      maxFail: 0,
      random: noJitter,
    });
    p.onFailure('connect refused', 0); // never up yet: the first connect is not a reconnect
    p.onUp(1500);
    expect(p.stats()).toEqual({
      failures: 1,
      reconnects: 0,
      lastReason: 'connect refused',
      lastFailureAt: 0,
      lastRecoverMs: null,
      outageSince: null,
    });
    p.onFailure('route to server changed', 100_000);
    expect(p.stats().outageSince).toBe(100_000);
    p.onFailure('connect timeout', 101_000);
    p.onUp(104_250);
    expect(p.stats()).toEqual({
      failures: 2,
      reconnects: 1,
      lastReason: 'connect timeout',
      lastFailureAt: 101_000,
      lastRecoverMs: 4250,
      outageSince: null,
    });
  });

  it('rejects negative or non-finite settings', () => {
    expect(() => new ReconnectPolicy({ holdoffMs: -1, maxBackoffMs: 1, maxFail: 0 })).toThrow(
      RangeError,
    );
    expect(
      () => new ReconnectPolicy({ holdoffMs: 1, maxBackoffMs: Number.NaN, maxFail: 0 }),
    ).toThrow(RangeError);
  });
});
