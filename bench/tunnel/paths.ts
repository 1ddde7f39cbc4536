/**
 * The three paths the tunnel benchmark compares, each brought up on the lab: the raw ssh2
 * channel (raw-channel.ts as a child), OpenSSH `ssh -w`, and ts-vpn (tsvpn.ts); newSession
 * and sessionTree find each path's sshd session processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sshTunnelArgs, stopChild, tunSnapshot, waitForNewTuns } from '../support/ssh-w.js';
import { CIPHER, NET, progress, ROOT, SECONDS, SSH_PORT, SSHW, sleep } from './config.js';
import { type Lab, track } from './lab.js';
import { emptyResult, iperfOnce, type Path, waitPing } from './measure.js';
import { descendants, type ProcGroup } from './procstat.js';
import { fmt } from './stats.js';
import { startTsVpn, type TsVpnHandle } from './tsvpn.js';

/** sshd's per-connection processes that appeared while `f` ran: the session of that path. */
async function newSession<T>(
  lab: Lab,
  f: () => Promise<T>,
): Promise<{ value: T; session: number[] }> {
  const before = new Set(lab.sshd.sessionPids());
  const value = await f();
  let session: number[] = [];
  for (let i = 0; i < 100 && session.length === 0; i++) {
    session = lab.sshd.sessionPids().filter((p) => !before.has(p));
    if (session.length === 0) await sleep(20);
  }
  return { value, session };
}

/** A session pid and everything under it (sshd privsep child, far-end command…). */
function sessionTree(session: number[]): ProcGroup {
  return { pids: () => session.flatMap((p) => [p, ...descendants(p)]) };
}

export async function startRaw(lab: Lab): Promise<Path> {
  const res = emptyResult('raw ssh2 channel', 'ok');
  let child: ChildProcess | null = null;
  let next: () => Promise<Record<string, unknown>> = async () => ({});
  const { session } = await newSession(lab, async () => {
    child = track(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          lab.cli.name,
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'bench/tunnel/raw-channel.ts'),
          NET.srv,
          String(SSH_PORT),
          lab.sshd.clientKeyPath,
          lab.sshd.knownHostsPath,
          CIPHER,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT },
      ),
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    next = async () => {
      const r = await Promise.race([lines.next(), sleep((SECONDS + 30) * 1000).then(() => null)]);
      if (!r || r.done) throw new Error('raw-channel child ended or timed out');
      const j = JSON.parse(r.value) as Record<string, unknown>;
      if (j.error) throw new Error(`raw-channel: ${j.error}`);
      return j;
    };
    const hello = await next();
    res.handshakeMs = Number(hello.handshakeMs) + Number(hello.authMs ?? 0);
    res.note = `cipher ${hello.cipher}`;
  });
  const c = child as unknown as ChildProcess;
  return {
    res,
    groups: { cli: { pids: () => [c.pid!] }, srv: sessionTree(session) },
    async transfer(dir) {
      c.stdin!.write(`${dir} ${SECONDS}\n`);
      const r = await next();
      return (Number(r.bytes) * 8) / Number(r.seconds) / 1e6;
    },
    async stop() {
      c.stdin!.write('quit\n');
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(5000)]);
      await stopChild(c);
    },
  };
}

export async function startSshW(lab: Lab): Promise<Path> {
  const res = emptyResult('ssh -w (OpenSSH tun)', 'ok');
  const before = tunSnapshot(lab.cli, lab.srv);
  let sshErr = '';
  let ssh: ChildProcess | null = null;
  const stop = async () => {
    if (ssh) await stopChild(ssh);
  };
  try {
    const { session } = await newSession(lab, async () => {
      const t0 = performance.now();
      ssh = track(
        spawn(
          'ip',
          [
            'netns',
            'exec',
            lab.cli.name,
            'ssh',
            ...sshTunnelArgs({
              key: lab.sshd.clientKeyPath,
              knownHosts: lab.sshd.knownHostsPath,
              cipher: CIPHER,
              port: SSH_PORT,
              host: NET.srv,
            }),
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        ),
      );
      const s = ssh as ChildProcess;
      s.stderr!.on('data', (d) => {
        sshErr += d;
      });
      const { cli: cliTun, srv: srvTun } = await waitForNewTuns(
        ssh as ChildProcess,
        lab.cli,
        lab.srv,
        before,
        () => sshErr,
        { timeoutMs: 15_000, pollMs: 5 },
      );
      const tunMs = performance.now() - t0;
      for (const [ns, dev, local, peer] of [
        [lab.cli, cliTun, SSHW.cli, SSHW.srv],
        [lab.srv, srvTun, SSHW.srv, SSHW.cli],
      ] as const) {
        ns.exec('ip', ['addr', 'add', local, 'peer', peer, 'dev', dev]);
        ns.exec('ip', ['link', 'set', dev, 'up']);
      }
      await waitPing(lab, SSHW.srv, 10_000);
      res.totalUpMs = tunMs;
      res.spawnUpMs = tunMs;
      res.bringUp = `${fmt(tunMs)} ms from spawn to both tun devices (addresses set by hand)`;
      progress(`  ssh -w up: ${cliTun} ↔ ${srvTun} after ${fmt(tunMs)} ms`);
    });
    const s = ssh as unknown as ChildProcess;
    return {
      res,
      addr: SSHW.srv,
      groups: { cli: { pids: () => [s.pid!] }, srv: sessionTree(session) },
      transfer: (dir) => iperfOnce(lab, SSHW.srv, dir === 'down', SECONDS),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function startTsVpnPath(lab: Lab): Promise<Path> {
  const res = emptyResult('ts-vpn', 'ok');
  let h: TsVpnHandle | null = null;
  try {
    const { session } = await newSession(lab, async () => {
      h = await startTsVpn({
        root: ROOT,
        cli: lab.cli,
        srv: lab.srv,
        sshd: lab.sshd,
        host: NET.srv,
        port: SSH_PORT,
        cipher: CIPHER,
        track,
        progress,
        profileDir: process.env.BENCH_PROFILE,
      });
    });
    const t = h as unknown as TsVpnHandle;
    res.handshakeMs = t.handshakeMs;
    res.totalUpMs = t.totalUpMs;
    res.spawnUpMs = t.startup.upMs;
    res.firstByteMs = t.startup.firstSshByteMs;
    const st = t.startup;
    const at = (x: number | undefined) => (x === undefined ? '?' : fmt(x));
    res.bringUp = `${t.bringUpText}; from spawn: main module ${at(st.mainMs)} ms, TCP connect ${at(st.tcpConnectMs)} ms, first SSH byte ${at(st.firstSshByteMs)} ms (${at(st.firstSshByteCpuMs)} ms CPU), tunnel up ${at(st.upMs)} ms`;
    progress(`  ts-vpn up: ${t.bringUpText}`);
    await waitPing(lab, t.peerAddress, 10_000);
    return {
      res,
      addr: t.peerAddress,
      groups: {
        cli: { pids: () => [t.pid] },
        // The gateway daemon is not under sshd: its pid joins the session's.
        srv:
          t.farEndPid === undefined
            ? sessionTree(session)
            : { pids: () => [...sessionTree(session).pids(), t.farEndPid!] },
      },
      transfer: (dir) =>
        iperfOnce(lab, t.peerAddress, dir === 'down', SECONDS).catch((err: Error) => {
          throw new Error(`${err.message}\n--- ts-vpn up log (tail):\n${t.log().slice(-3000)}`);
        }),
      stop: () => t.stop(),
    };
  } catch (err) {
    if (h) await (h as TsVpnHandle).stop();
    throw err;
  }
}
