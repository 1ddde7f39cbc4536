/**
 * StrictModes (issue 15 item 2): hook programs, and configs that name hooks or hold
 * passwords, must be owned by a trusted user and not writable by group or others,
 * with every directory on the way; otherwise exit 2 with the chmod/chown to run.
 * Foreign-owned files are made with chown to uid 65534 (the tests run as root).
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPeerConfig, loadServerConfig } from '../../src/config/index.js';
import {
  checkHookCommand,
  checkTrustedFile,
  hookFiles,
  type StrictModesOptions,
} from '../../src/config/strict-modes.js';
import { configRejection, fakeResolver } from './fixtures.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;
/** Root only, for execution and reading: what `sudo ts-vpn up` trusts without $SUDO_UID. */
const ROOT_ONLY: StrictModesOptions = { execUids: [0], readUids: [0] };

let dir: string;
let n = 0;

function file(name: string, text: string, mode: number, uid = 0): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  chownSync(p, uid, 0);
  return p;
}

function subdir(name: string, mode: number, uid = 0): string {
  const p = join(dir, name);
  mkdirSync(p);
  chmodSync(p, mode);
  chownSync(p, uid, 0);
  return p;
}

/** A complete peer.yaml (key, known_hosts in the test dir) with the given extra text. */
function peerYaml(extra: string): string {
  return `ssh:\n  host: gw.example.com\n  identity-files: [${join(dir, 'key')}]\n  agent: false\n  host-key:\n    known-hosts: ${join(dir, 'known_hosts')}\n${extra}`;
}

const env = () => ({
  user: 'alice',
  home: dir,
  sshAuthSock: undefined,
  hostname: 'testhost',
  baseDir: dir,
});

async function load(path: string, strictModes: StrictModesOptions = ROOT_ONLY) {
  return loadPeerConfig(path, { env: env(), resolve: fakeResolver, strictModes });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsvpn-strict-'));
  file('key', '-----BEGIN OPENSSH PRIVATE KEY-----\n', 0o600);
  file('known_hosts', '', 0o644);
  file('up.sh', '#!/bin/sh\nexit 0\n', 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!root)('StrictModes: a peer file that names hooks', () => {
  it('a 0666 peer file with hooks.up is refused (exit 2) with the chmod to run', async () => {
    const p = file(`p${++n}.yaml`, peerYaml(`hooks:\n  up: ${join(dir, 'up.sh')}\n`), 0o666);
    const e = await configRejection(load(p));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      `${p}:7 hooks: ${p} names hooks that run as root, but it is writable by group and others (mode 0666); run chmod go-w ${p}`,
    );
  });

  it('the same file at 0644 or 0600 is accepted (only writing matters for a config without secrets)', async () => {
    for (const mode of [0o644, 0o600]) {
      const p = file(`p${++n}.yaml`, peerYaml(`hooks:\n  down: ${join(dir, 'up.sh')}\n`), mode);
      await expect(load(p)).resolves.toMatchObject({ hooks: { down: join(dir, 'up.sh') } });
    }
  });

  it('a peer file owned by someone else is refused with chown root; the invoking user may own it', async () => {
    const p = file(
      `p${++n}.yaml`,
      peerYaml(`hooks:\n  up: ${join(dir, 'up.sh')}\n`),
      0o600,
      NOBODY,
    );
    const e = await configRejection(load(p));
    expect(e.message).toContain(
      `hooks: ${p} names hooks that run as root, but it is owned by nobody (uid ${NOBODY}), who could change it; run chown root ${p}`,
    );
    // Under sudo, $SUDO_UID may own the files that are only read.
    await expect(load(p, { execUids: [0], readUids: [0, NOBODY] })).resolves.toBeTruthy();
  });

  it('a group-writable hook script is refused at its field', async () => {
    const hook = file('gw-hook.sh', '#!/bin/sh\n', 0o775);
    const p = file(`p${++n}.yaml`, peerYaml(`hooks:\n  up: sh ${hook} up "$@"\n`), 0o600);
    const e = await configRejection(load(p));
    expect(e.issues).toEqual([
      {
        path: 'hooks.up',
        line: 8,
        message: `${hook} is run by hooks.up, but it is writable by group (mode 0775); run chmod go-w ${hook}`,
      },
    ]);
  });

  it('a hook program owned by the invoking user is refused: programs must be root’s', async () => {
    const hook = file('user-hook.sh', '#!/bin/sh\n', 0o755, NOBODY);
    const p = file(`p${++n}.yaml`, peerYaml(`hooks:\n  down: ${hook} down\n`), 0o600);
    const e = await configRejection(load(p, { execUids: [0], readUids: [0, NOBODY] }));
    expect(e.message).toContain(
      `hooks.down: ${hook} is run by hooks.down, but it is owned by nobody (uid ${NOBODY}), who could change it; run chown root ${hook}`,
    );
  });

  it('a hook in a world-writable directory is refused with the directory’s chmod', async () => {
    const d = subdir('open', 0o777);
    const hook = join(d, 'up.sh');
    writeFileSync(hook, '#!/bin/sh\n', { mode: 0o755 });
    const p = file(`p${++n}.yaml`, peerYaml(`hooks:\n  up: ${hook}\n`), 0o600);
    const e = await configRejection(load(p));
    expect(e.message).toContain(
      `hooks.up: ${hook} is run by hooks.up, but its directory ${d} is writable by group and others (mode 0777); run chmod go-w ${d}`,
    );
  });

  it('a root-owned sticky directory (like /tmp) is accepted; one owned by another user is not', async () => {
    const sticky = subdir('sticky', 0o1777);
    const ok = join(sticky, 'up.sh');
    writeFileSync(ok, '#!/bin/sh\n', { mode: 0o755 });
    await expect(checkTrustedFile(ok, 'hooks.up', 'is run', 'exec', ROOT_ONLY)).resolves.toEqual(
      [],
    );
    const theirs = subdir('theirs', 0o755, NOBODY);
    const bad = join(theirs, 'up.sh');
    writeFileSync(bad, '#!/bin/sh\n', { mode: 0o755 });
    const issues = await checkTrustedFile(bad, 'hooks.up', 'is run by hooks.up', 'exec', ROOT_ONLY);
    expect(issues.map((i) => i.message)).toEqual([
      `${bad} is run by hooks.up, but its directory ${theirs} is owned by nobody (uid ${NOBODY}), who could change it; move the file to a directory owned by root (e.g. /etc/ts-vpn), or run chown root ${theirs}`,
    ]);
  });

  it('a symlink to a hook in an unsafe place is judged by where it leads', async () => {
    const d = subdir('open2', 0o777);
    const target = join(d, 'real.sh');
    writeFileSync(target, '#!/bin/sh\n', { mode: 0o755 });
    const link = join(dir, 'link.sh');
    symlinkSync(target, link);
    const issues = await checkTrustedFile(
      link,
      'hooks.up',
      'is run by hooks.up',
      'exec',
      ROOT_ONLY,
    );
    expect(issues.map((i) => i.message)).toEqual([
      `${link} is run by hooks.up, but its directory ${d} is writable by group and others (mode 0777); run chmod go-w ${d}`,
    ]);
  });

  it('every problem is listed at once: the file, the hook and the hook’s directory', async () => {
    const d = subdir('open3', 0o757);
    const hook = join(d, 'up.sh');
    writeFileSync(hook, '#!/bin/sh\n');
    chmodSync(hook, 0o777);
    const p = file(`p${++n}.yaml`, peerYaml(`hooks:\n  up: ${hook}\n`), 0o620);
    const e = await configRejection(load(p));
    expect(e.issues.map((i) => i.message.replace(/;.*$/, ''))).toEqual([
      `${p} names hooks that run as root, but it is writable by group (mode 0620)`,
      `${hook} is run by hooks.up, but its directory ${d} is writable by others (mode 0757)`,
      `${hook} is run by hooks.up, but it is writable by group and others (mode 0777)`,
    ]);
  });

  it('remote.transport: command runs a local command as root: the same rules as hooks', async () => {
    const script = file('relay.sh', '#!/bin/sh\n', 0o755);
    chmodSync(script, 0o757);
    const p = file(
      `p${++n}.yaml`,
      `remote:\n  transport: command\n  command: ${script} --to gw\n  kind: ts-vpn\n`,
      0o646,
    );
    const e = await configRejection(load(p));
    expect(e.issues).toEqual([
      {
        path: 'remote.command',
        line: 3,
        message: `${p} names a local command that runs as root, but it is writable by others (mode 0646); run chmod go-w ${p}`,
      },
      {
        path: 'remote.command',
        line: 3,
        message: `${script} is run by remote.command, but it is writable by others (mode 0757); run chmod go-w ${script}`,
      },
    ]);
    chmodSync(script, 0o755);
    chmodSync(p, 0o644);
    await expect(load(p)).resolves.toMatchObject({ remote: { transport: 'command' } });
  });

  it('a peer file without hooks or inline secrets is not subject to StrictModes', async () => {
    const p = file(`p${++n}.yaml`, peerYaml(''), 0o666);
    await expect(load(p)).resolves.toBeTruthy();
  });

  it('an inline PAP/CHAP password: the file must also be owned by a trusted user', async () => {
    const p = file(
      `p${++n}.yaml`,
      peerYaml('ppp:\n  auth:\n    user: alice\n    password: "pw"\n'),
      0o600,
      NOBODY,
    );
    const e = await configRejection(load(p));
    expect(e.message).toContain(
      `ppp.auth.password: ${p} holds a password, but it is owned by nobody (uid ${NOBODY}), who could change it; run chown root ${p}`,
    );
  });
});

describe.skipIf(!root)('StrictModes: server.yaml with inline passwords', () => {
  it('is refused when another user owns it, or its directory is writable by others', async () => {
    const text = 'auth:\n  require: chap\n  users:\n    - { user: alice, password: "pw" }\n';
    const foreign = file('server-foreign.yaml', text, 0o600, NOBODY);
    const e = await configRejection(
      loadServerConfig(foreign, { env: env(), strictModes: ROOT_ONLY }),
    );
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(
      `auth.users: ${foreign} holds passwords, but it is owned by nobody (uid ${NOBODY}), who could change it; run chown root ${foreign}`,
    );
    const d = subdir('srv-open', 0o777);
    const open = join(d, 'server.yaml');
    writeFileSync(open, text, { mode: 0o600 });
    const e2 = await configRejection(
      loadServerConfig(open, { env: env(), strictModes: ROOT_ONLY }),
    );
    expect(e2.message).toContain(`its directory ${d} is writable by group and others`);
    const ok = file('server-ok.yaml', text, 0o600);
    await expect(
      loadServerConfig(ok, { env: env(), strictModes: ROOT_ONLY }),
    ).resolves.toMatchObject({ kind: 'server' });
  });
});

describe('hook command → files it runs', () => {
  it('finds the program on the hook PATH and scripts named by path', async () => {
    const script = join(dir, 'up.sh');
    const files = await hookFiles(`sh ${script} up "$@"`, dir);
    expect(files[0]).toMatch(/^\/(usr\/)?s?bin\/sh$/);
    expect(files.slice(1)).toEqual([script]);
  });

  it('skips sudo/env prefixes, VAR=value, options, builtins and $-words; relative paths use the config dir', async () => {
    expect(await hookFiles('env FOO=1 ./up.sh "$1" --x', dir)).toEqual([join(dir, 'up.sh')]);
    expect(await hookFiles('exit 1; $HOME/x', dir)).toEqual([]);
    const echo = await hookFiles('echo hi; exit 1', dir);
    expect(echo).toHaveLength(1);
    expect(echo[0]).toMatch(/\/echo$/);
  });

  it.skipIf(!root)('checkHookCommand on system programs passes', async () => {
    await expect(checkHookCommand('logger -t vpn up', 'hooks.up', dir, ROOT_ONLY)).resolves.toEqual(
      [],
    );
  });
});
