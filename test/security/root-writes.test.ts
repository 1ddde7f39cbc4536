/**
 * Root writes never follow a symlink someone else planted (issue 15 item 7): the state
 * directory (`--state-dir` anywhere) and `accept-new` appending to the invoking user's
 * known_hosts. Symlinks, hard links and loose directories in temp dirs; victims are temp
 * files too.
 */
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError, TunnelStateDir } from '../../src/runtime/state-dir.js';
import { UnsafePathError, writeFileSafe } from '../../src/sys/safe-files.js';
import { appendKnownHost } from '../../src/transport/known-hosts.js';

const asRoot = process.geteuid?.() === 0;
/** An unprivileged uid/gid (nobody) for files "the user" owns. */
const USER = 65534;
const KEY = Buffer.concat([
  Buffer.from([0, 0, 0, 11]),
  Buffer.from('ssh-ed25519'),
  Buffer.from([0, 0, 0, 32]),
  Buffer.alloc(32, 7),
]);

let dir = '';
let victim = '';
const VICTIM_TEXT = 'root:x:0:0:root:/root:/bin/bash\n';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-rootw-'));
  chmodSync(dir, 0o755);
  victim = join(dir, 'victim');
  writeFileSync(victim, VICTIM_TEXT, { mode: 0o644 });
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.SUDO_UID;
  delete process.env.SUDO_GID;
});

function stateError(fn: () => unknown): StateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StateError) return e;
    throw e;
  }
  throw new Error('expected a StateError');
}

describe.skipIf(!asRoot)('state directory (--state-dir outside /run/ts-vpn)', () => {
  it('below a directory anyone can write to: refused, naming it and the chmod', () => {
    const loose = join(dir, 'loose');
    mkdirSync(loose, { mode: 0o777 });
    chmodSync(loose, 0o777);
    const e = stateError(() => new TunnelStateDir('t1', join(loose, 'state')).lock());
    expect(e.code).toBe('UNSAFE_PATH');
    expect(e.message).toContain(`${loose} is writable by group or others (mode 0777)`);
    expect(e.message).toContain(`chmod go-w ${loose}`);
  });

  it('below a directory another user owns: refused', () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, USER, USER);
    const e = stateError(() => new TunnelStateDir('t1', theirs).lock());
    expect(e.code).toBe('UNSAFE_PATH');
    expect(e.message).toContain(`${theirs} is owned by uid ${USER}, not by root`);
  });

  it('the tunnel directory a symlink to a directory another user owns: refused, nothing written there', () => {
    const root = join(dir, 'root');
    mkdirSync(root, { mode: 0o755 });
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    chownSync(elsewhere, USER, USER);
    symlinkSync(elsewhere, join(root, 't1'));
    const e = stateError(() => new TunnelStateDir('t1', root).lock());
    expect(e.code).toBe('UNSAFE_PATH');
    expect(e.message).toContain(`is owned by uid ${USER}`);
    expect(() => statSync(join(elsewhere, 'pid'))).toThrow();
  });

  it('a planted state.json.tmp symlink does not redirect the state write', () => {
    const sd = new TunnelStateDir('t1', join(dir, 'root'));
    sd.lock();
    symlinkSync(victim, `${sd.statePath}.tmp`);
    sd.writeState({ interface: 'tsvpn0' });
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(JSON.parse(readFileSync(sd.statePath, 'utf8'))).toEqual({ interface: 'tsvpn0' });
    expect(statSync(sd.dir).mode & 0o777).toBe(0o700);
    sd.release();
  });

  it('a safe path still works below a root-owned sticky directory such as /tmp', () => {
    const sd = new TunnelStateDir('t2', join(dir, 'a', 'b'));
    expect(sd.lock().dir).toBe(join(dir, 'a', 'b', 't2'));
    sd.release();
  });

  it('writeFileSafe: a symlink as the target is replaced, its target untouched', () => {
    const link = join(dir, 'resolv.conf');
    symlinkSync(victim, link);
    writeFileSafe(link, 'nameserver 10.77.0.1\n', { mode: 0o644 });
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(readFileSync(link, 'utf8')).toBe('nameserver 10.77.0.1\n');
  });
});

describe.skipIf(!asRoot)('accept-new appends to the invoking user’s known_hosts', () => {
  function userSsh(): { ssh: string; file: string } {
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, USER, USER);
    const ssh = join(home, '.ssh');
    mkdirSync(ssh, { mode: 0o700 });
    chownSync(ssh, USER, USER);
    process.env.SUDO_UID = String(USER);
    process.env.SUDO_GID = String(USER);
    return { ssh, file: join(ssh, 'known_hosts') };
  }

  it('known_hosts a symlink to a root file: refused (ELOOP), the file untouched', () => {
    const { file } = userSsh();
    symlinkSync(victim, file);
    expect(() => appendKnownHost(file, '[198.18.0.2]:2222', KEY)).toThrow(UnsafePathError);
    expect(() => appendKnownHost(file, '[198.18.0.2]:2222', KEY)).toThrow(/is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('known_hosts a hard link to a root file: refused, the file untouched', () => {
    const { file } = userSsh();
    linkSync(victim, file);
    expect(() => appendKnownHost(file, '[198.18.0.2]:2222', KEY)).toThrow(/2 hard links/);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('~/.ssh a symlink to a root directory: refused by the owner check, nothing created there', () => {
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, USER, USER);
    const rootDir = join(dir, 'etc');
    mkdirSync(rootDir, { mode: 0o777 });
    chmodSync(rootDir, 0o777);
    symlinkSync(rootDir, join(home, '.ssh'));
    process.env.SUDO_UID = String(USER);
    const file = join(home, '.ssh', 'known_hosts');
    expect(() => appendKnownHost(file, 'h', KEY)).toThrow(/writable by group or others/);
    expect(() => statSync(join(rootDir, 'known_hosts'))).toThrow();
  });

  it('a user-owned ~/.ssh: the line is appended; a new file belongs to the user, 0600', () => {
    const { file } = userSsh();
    appendKnownHost(file, '[198.18.0.2]:2222', KEY);
    const st = statSync(file);
    expect(st.uid).toBe(USER);
    expect(st.mode & 0o777).toBe(0o600);
    writeFileSync(file, `${readFileSync(file, 'utf8')}# no newline`);
    appendKnownHost(file, 'other', KEY);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toMatch(/^\[198\.18\.0\.2\]:2222 ssh-ed25519 /);
    expect(lines[1]).toBe('# no newline');
    expect(lines[2]).toMatch(/^other ssh-ed25519 /);
  });

  it('a known_hosts owned by a third user: refused', () => {
    const { file } = userSsh();
    writeFileSync(file, '');
    chownSync(file, USER - 1, USER - 1);
    expect(() => appendKnownHost(file, 'h', KEY)).toThrow(/owned by uid 65533/);
  });
});
