import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HookEnv, hookEnvironment, runHook } from '../../src/runtime/hooks.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvpn-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function captureLog() {
  const lines: { level: string; msg: string }[] = [];
  return {
    lines,
    log: {
      info: (msg: string) => lines.push({ level: 'info', msg }),
      warn: (msg: string) => lines.push({ level: 'warn', msg }),
      debug: (msg: string) => lines.push({ level: 'debug', msg }),
    },
  };
}

/** Live (non-zombie) processes whose process group is `pgid`. */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${ent}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may contain spaces: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z') out.push(Number(ent));
  }
  return out;
}

const upEnv: HookEnv = {
  name: 'office',
  ifname: 'tsvpn0',
  localIp: '10.77.0.2',
  remoteIp: '10.77.0.1',
  dns: ['10.77.0.53', '10.77.0.54'],
  llLocal: 'fe80::2',
  llRemote: 'fe80::1',
  peerName: 'gw',
  device: 'ssh:198.18.0.2:22',
};

describe('hookEnvironment', () => {
  it('sets pppd-style variables and nothing inherited but LANG', () => {
    process.env.TSVPN_TEST_SECRET = 'hunter2';
    try {
      const env = hookEnvironment('up', upEnv);
      const { LANG: _lang, ...rest } = env;
      expect(rest).toEqual({
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        TSVPN_NAME: 'office',
        TSVPN_PHASE: 'up',
        TSVPN_HOOK: 'up',
        LINKNAME: 'office',
        IFNAME: 'tsvpn0',
        IPLOCAL: '10.77.0.2',
        IPREMOTE: '10.77.0.1',
        DNS1: '10.77.0.53',
        DNS2: '10.77.0.54',
        USEPEERDNS: '1',
        LLLOCAL: 'fe80::2',
        LLREMOTE: 'fe80::1',
        PEERNAME: 'gw',
        DEVICE: 'ssh:198.18.0.2:22',
      });
      expect(Object.values(env)).not.toContain('hunter2');
    } finally {
      delete process.env.TSVPN_TEST_SECRET;
    }
  });

  it('omits absent values, adds down counters and valid extra names only', () => {
    const env = hookEnvironment('down', {
      name: 'x',
      ifname: 'tsvpn1',
      phase: 'stopping',
      dns: [],
      connectTimeS: 61.6,
      bytesSent: 1234,
      bytesReceived: 0,
      extra: { MY_VAR: 'a', 'bad-name': 'b', IFNAME: 'override' },
    });
    expect(env.TSVPN_PHASE).toBe('stopping');
    expect(env.TSVPN_HOOK).toBe('down');
    expect(env.IPLOCAL).toBeUndefined();
    expect(env.DNS1).toBeUndefined();
    expect(env.USEPEERDNS).toBeUndefined();
    expect(env.CONNECT_TIME).toBe('62');
    expect(env.BYTES_SENT).toBe('1234');
    expect(env.BYTES_RCVD).toBe('0');
    expect(env.MY_VAR).toBe('a');
    expect(env['bad-name']).toBeUndefined();
    expect(env.IFNAME).toBe('tsvpn1');
  });
});

describe('runHook', () => {
  it('the hook sees the environment and pppd positional arguments', async () => {
    const f = join(dir, 'env.txt');
    const r = await runHook(
      'up',
      `env > ${f}; echo "args=$1|$2|$3|$4|$5" >> ${f}; echo "ppid-group=$(ps -o pgid= -p $$ | tr -d ' ')" >> ${f}`,
      upEnv,
      { timeoutMs: 5000 },
    );
    expect(r.ok).toBe(true);
    expect(r.code).toBe(0);
    expect(r.timedOut).toBe(false);
    const text = readFileSync(f, 'utf8');
    const vars = Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(vars.IFNAME).toBe('tsvpn0');
    expect(vars.IPLOCAL).toBe('10.77.0.2');
    expect(vars.IPREMOTE).toBe('10.77.0.1');
    expect(vars.DNS1).toBe('10.77.0.53');
    expect(vars.DNS2).toBe('10.77.0.54');
    expect(vars.LLLOCAL).toBe('fe80::2');
    expect(vars.LLREMOTE).toBe('fe80::1');
    expect(vars.PEERNAME).toBe('gw');
    expect(vars.TSVPN_NAME).toBe('office');
    expect(vars.TSVPN_PHASE).toBe('up');
    expect(vars.NOTIFY_SOCKET).toBeUndefined();
    expect(vars.HOME).toBeUndefined();
    expect(vars.args).toBe('tsvpn0|ssh:198.18.0.2:22|0|10.77.0.2|10.77.0.1');
    // Its own process group: the group id is the shell's pid.
    if (vars['ppid-group']) expect(Number(vars['ppid-group'])).toBe(r.pid);
  });

  it('reports a failing hook (exit 3) and logs it, without throwing', async () => {
    const { lines, log } = captureLog();
    const r = await runHook(
      'down',
      'echo going; echo oops >&2; exit 3',
      { name: 't', ifname: 'tsvpn0' },
      { timeoutMs: 5000, log },
    );
    expect(r).toMatchObject({
      ok: false,
      code: 3,
      signal: null,
      timedOut: false,
      message: 'exited with code 3',
    });
    expect(lines).toContainEqual({ level: 'info', msg: 'down hook: going' });
    expect(lines).toContainEqual({ level: 'warn', msg: 'down hook: oops' });
    expect(lines).toContainEqual({
      level: 'warn',
      msg: 'down hook "echo going; echo oops >&2; exit 3": exited with code 3',
    });
  });

  it('reports a shell that cannot start', async () => {
    const { lines, log } = captureLog();
    const r = await runHook(
      'up',
      'true',
      { name: 't', ifname: 'x' },
      { timeoutMs: 1000, log, shell: join(dir, 'no-such-shell') },
    );
    expect(r.ok).toBe(false);
    expect(r.code).toBeNull();
    expect(r.message).toMatch(/^could not start: .*ENOENT/);
    expect(lines.some((l) => l.level === 'warn')).toBe(true);
  });

  it('kills a hanging hook and its children at the timeout, and returns promptly', async () => {
    const { lines, log } = captureLog();
    const t0 = Date.now();
    const r = await runHook(
      'up',
      'sleep 100 & sleep 100 & trap "" TERM; sleep 100',
      { name: 't', ifname: 'x' },
      {
        timeoutMs: 300,
        killGraceMs: 300,
        log,
      },
    );
    const elapsed = Date.now() - t0;
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.message).toBe('timed out after 0.3 s (process group killed)');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    expect(r.pid).toBeGreaterThan(0);
    expect(liveInGroup(r.pid as number)).toEqual([]);
    expect(lines.some((l) => l.level === 'warn' && l.msg.includes('timed out'))).toBe(true);
  });

  it('a hook that obeys SIGTERM ends before the grace period', async () => {
    const t0 = Date.now();
    const r = await runHook(
      'up',
      'sleep 100 & sleep 100',
      { name: 't', ifname: 'x' },
      { timeoutMs: 200, killGraceMs: 5000 },
    );
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(liveInGroup(r.pid as number)).toEqual([]);
  });

  it('does not wait for background processes that keep the output open', async () => {
    const f = join(dir, 'bg.pid');
    const t0 = Date.now();
    const r = await runHook(
      'up',
      `sleep 30 & echo $! > ${f}; echo started`,
      { name: 't', ifname: 'x' },
      { timeoutMs: 5000 },
    );
    expect(r.ok).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    const bg = Number(readFileSync(f, 'utf8'));
    process.kill(bg, 'SIGKILL'); // started by this test
  });

  it('caps line length and line count', async () => {
    const { lines, log } = captureLog();
    const r = await runHook(
      'up',
      'i=0; while [ $i -lt 20 ]; do echo line$i; i=$((i+1)); done; head -c 3000 /dev/zero | tr "\\0" a; echo',
      { name: 't', ifname: 'x' },
      { timeoutMs: 5000, log, maxLines: 5, maxLineLength: 100 },
    );
    expect(r.ok).toBe(true);
    const out = lines.filter((l) => l.msg.startsWith('up hook: ')).map((l) => l.msg);
    expect(out).toEqual([
      'up hook: line0',
      'up hook: line1',
      'up hook: line2',
      'up hook: line3',
      'up hook: line4',
      'up hook: 16 more output line(s) not logged',
    ]);
    expect(r.droppedLines).toBe(16);
  });

  it('cuts one over-long line to maxLineLength', async () => {
    const { lines, log } = captureLog();
    await runHook(
      'up',
      'head -c 100000 /dev/zero | tr "\\0" b; echo; echo after',
      { name: 't', ifname: 'x' },
      {
        timeoutMs: 5000,
        log,
        maxLineLength: 10,
      },
    );
    const out = lines
      .filter((l) => l.level === 'info' && l.msg.startsWith('up hook: '))
      .map((l) => l.msg);
    expect(out).toEqual(['up hook: bbbbbbbbbb…', 'up hook: after']);
  });
});
