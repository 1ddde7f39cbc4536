import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityOf, peerCred } from '../../src/gateway/peercred.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvpn-peercred-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Accepts one connection from a child running as `uid` and returns its SO_PEERCRED. */
async function credOfChild(uid: number | undefined) {
  const path = join(dir, `s${uid ?? 'self'}.sock`);
  let onSocket: (s: Socket) => void = () => undefined;
  const accepted = new Promise<Socket>((resolve) => {
    onSocket = resolve;
  });
  const srv = createServer((s) => {
    onSocket(s);
    srv.close();
  });
  await new Promise<void>((r) => srv.listen(path, r));
  chmodSync(path, 0o777);
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('node:net').connect(${JSON.stringify(path)});s.on('connect',()=>setTimeout(()=>s.end(),200));`,
    ],
    uid === undefined ? {} : { uid, gid: uid },
  );
  const sock = await accepted;
  const cred = peerCred(sock);
  sock.destroy();
  await new Promise((r) => child.on('exit', r));
  return { cred, childPid: child.pid };
}

describe('SO_PEERCRED', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'gives the uid and pid of a process connecting as another user',
    async () => {
      const { cred, childPid } = await credOfChild(65534);
      expect(cred.uid).toBe(65534);
      expect(cred.gid).toBe(65534);
      expect(cred.pid).toBe(childPid);
    },
  );

  it('gives our own uid for a connection from a child of ours', async () => {
    const { cred } = await credOfChild(undefined);
    expect(cred.uid).toBe(process.getuid?.());
  });
});

describe('identityOf', () => {
  it('names root and its group', () => {
    expect(identityOf(0)).toMatchObject({ uid: 0, user: 'root', known: true });
    expect(identityOf(0).groups).toContain('root');
  });
  it('marks a uid without a passwd entry as unknown', () => {
    expect(identityOf(3_999_999)).toEqual({
      uid: 3_999_999,
      user: '#3999999',
      groups: [],
      known: false,
    });
  });
});
