/**
 * `dns.write-to` at a symlink survives `up`, `down` and a kill -9 (issue 15 item 3), end
 * to end: the write-to path is a temp symlink (never the host's /etc/resolv.conf) to a
 * temp "stub" file. While up, our file is in place (the link kept in the state dir);
 * after a clean stop the link is back; after kill -9 our file stays, and the next `up`
 * puts the link back before anything else.
 */
import { lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAN_DNS } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('resolv.conf symlink tests');
const STUB_TEXT = 'nameserver 127.0.0.53\n';

describe.skipIf(!enabled)('a symlinked dns.write-to', () => {
  const lab = useLab();

  it('replaced while up, put back on stop; after kill -9 put back by the next up', async () => {
    const name = `rsl-${lab.id}`;
    const peer = lab.writePeer('rsl.yaml', { name });
    const path = join(lab.dir, `${name}-resolv.conf`);
    const stub = join(lab.dir, 'stub-resolv.conf');
    writeFileSync(stub, STUB_TEXT);
    symlinkSync('stub-resolv.conf', path);
    const isLink = () => lstatSync(path).isSymbolicLink();

    // 1. up, then kill -9.
    let up = await lab.startUp({ peerYaml: peer });
    expect(isLink()).toBe(false);
    expect(readFileSync(path, 'utf8')).toContain(`nameserver ${LAN_DNS}`);
    expect(up.log()).toContain(
      `${path} was a symlink to stub-resolv.conf; replaced while the tunnel is up`,
    );
    await up.stop('SIGKILL');
    expect(isLink()).toBe(false); // the crash left our file
    expect(readFileSync(stub, 'utf8')).toBe(STUB_TEXT);

    // 2. the next up puts the link back first, then replaces it again (said again).
    up = await lab.startUp({ peerYaml: peer });
    const log = up.log();
    const back = log.indexOf(
      `dns: put back ${path} (a symlink to stub-resolv.conf) after the previous run`,
    );
    expect(back, log).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('was a symlink to stub-resolv.conf; replaced')).toBeGreaterThan(back);
    expect(isLink()).toBe(false);

    // 3. a clean stop puts it back.
    const r = await up.stop('SIGTERM');
    expect(r.code).toBe(0);
    expect(isLink()).toBe(true);
    expect(readlinkSync(path)).toBe('stub-resolv.conf');
    expect(readFileSync(stub, 'utf8')).toBe(STUB_TEXT);
  }, 60_000);
});
