import { describe, expect, it } from 'vitest';
import { streamLocalError } from '../../src/transport/streamlocal.js';

function openFailure(reason: number, description: string): Error & { reason: number } {
  return Object.assign(new Error(`(SSH) Channel open failure: ${description}`), { reason });
}

describe('gateway channel open failures', () => {
  it('says the administrator forbade stream-local forwarding ("administratively prohibited")', () => {
    const e = streamLocalError(
      openFailure(1, 'open failed'),
      'alice@gw:22',
      '/run/ts-vpn/gateway.sock',
    );
    expect(e.code).toBe('EXEC_FAILED');
    expect(e.message).toMatch(/administrator forbids stream-local forwarding/);
    expect(e.message).toMatch(/AllowStreamLocalForwarding yes/);
    expect(e.message).toMatch(/restrict/);
  });
  it('names both causes when sshd cannot connect the channel (OpenSSH answers a refusal the same way)', () => {
    const e = streamLocalError(openFailure(2, 'connect failed'), 'alice@gw:22', '/srv/gw.sock');
    expect(e.message).toMatch(
      /could not connect the channel to the gateway socket \/srv\/gw.sock \(connect failed\): either ts-vpn gateway is not running there .* or the server's administrator forbids stream-local forwarding/,
    );
  });
});
