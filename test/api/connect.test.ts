import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, isPppLinkError, parsePeerConfig } from '../../src/index.js';
import { REPO, SERVER_PPP_ADDR } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

describe('connect() argument handling', () => {
  it('rejects a missing peer file with CONFIG_INVALID', async () => {
    const err = await connect('/nonexistent/ts-vpn-peer.yaml').catch((e: unknown) => e);
    expect(isPppLinkError(err, 'CONFIG_INVALID')).toBe(true);
  });

  it('rejects something that is neither a path nor a PeerConfig with INVALID_OPTIONS', async () => {
    await expect(connect(42 as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(connect({ kind: 'server' } as never)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });

  it('rejects at once with ABORTED when the signal is already aborted', async () => {
    const cfg = parsePeerConfig(
      'ssh:\n  host: 192.0.2.1\n  user: u\n  host-key:\n    fingerprint: SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n',
      'inline.yaml',
    );
    await expect(connect(cfg, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});

const enabled = requireNetns('connect() e2e');

describe.skipIf(!enabled)('connect() end to end (real sshd, ts-vpn serve, namespaces)', () => {
  const lab = useLab();

  it('brings the tunnel up, reports status() and closes cleanly', async () => {
    const script = join(REPO, 'test/api/fixtures/connect-status.ts');
    const child = lab.cli.spawn(
      process.execPath,
      ['--import', 'tsx', script, lab.peerYaml, lab.stateDir],
      { cwd: REPO },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(code, `stdout: ${out}\nstderr: ${err}`).toBe(0);
    const [status, end] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(status.phase).toBe('up');
    expect(status.interface).toMatch(/^tsvpn\d+$/);
    expect(status.local).toMatch(/^10\.77\.0\.\d+$/);
    expect(status.peer).toBe(SERVER_PPP_ADDR);
    expect(end.exit.kind).toBe('ok');
    expect(end.phase).toBe('closed');
    expect(end.logged).toBe(true);
    // The TUN device went away with the tunnel.
    expect(lab.cli.exec('ip', ['-o', 'link'])).not.toMatch(/tsvpn\d/);
  }, 90_000);
});
