/**
 * A real OpenSSH sshd per test: its own temp dir, host key,
 * client key, authorized_keys and sshd_config; started on loopback or inside a namespace
 * the test created. Never touches /etc/ssh or any service manager; stop() kills only the
 * pid it started and removes the temp dir.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshdOptions {
  /** Namespace to run in (`ip netns exec`); omit for the root namespace (loopback only). */
  ns?: string;
  /** Default 127.0.0.1. */
  listenAddress?: string;
  /** Default: a free loopback port (root namespace) or 2222 (namespace). */
  port?: number;
  allowTunnel?: boolean;
  /** UsePAM yes (keyboard-interactive through PAM's sshd service); default no. */
  usePam?: boolean;
  /** Appended verbatim to sshd_config. */
  extraConfig?: string;
  /** Host key type for ssh-keygen -t (default ed25519). */
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** More host keys of these types (sshd offers all; known_hosts lists only the first). */
  extraHostKeyTypes?: Array<'ed25519' | 'ecdsa' | 'rsa'>;
  /** Start timeout (ms, default 8000). */
  startTimeoutMs?: number;
}

export interface Sshd {
  port: number;
  listenAddress: string;
  ns: string | undefined;
  hostKeyPath: string;
  /** `ssh-ed25519 AAAA… comment` */
  hostPublicKey: string;
  /** `ssh-keygen -lf` fingerprint of the host key, `SHA256:…`. */
  hostFingerprint: string;
  /** Every host key sshd offers (the main one first, then extraHostKeyTypes). */
  hostKeys: Array<{ type: string; path: string; publicKey: string; fingerprint: string }>;
  /** Contains one `[addr]:port <key>` line. */
  knownHostsPath: string;
  /** The `[addr]:port` (or `addr` on port 22) name known_hosts uses. */
  knownHostsName: string;
  /** ed25519, no passphrase, mode 600, listed in authorized_keys. */
  clientKeyPath: string;
  user: 'root';
  pid: number;
  dir: string;
  /** sshd's stderr so far (LogLevel VERBOSE). */
  log(): string;
  /** Pids of sshd children (per-connection processes) of this sshd. */
  sessionPids(): number[];
  /** SIGKILLs every per-connection child of this sshd (simulates a server-side crash). */
  killSessions(signal?: NodeJS.Signals): number[];
  stop(): Promise<void>;
}

function keygen(args: string[]): void {
  execFileSync('ssh-keygen', ['-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A free TCP port on 127.0.0.1 (the root namespace's loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Children of `pid` according to /proc (tasks' PPid). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const status = readFileSync(`/proc/${ent}/status`, 'utf8');
      const m = /^PPid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === pid) out.push(Number(ent));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function canConnect(host: string, port: number, ns?: string): Promise<boolean> {
  if (ns) {
    // Probe from inside the namespace with bash's /dev/tcp (no extra tools needed).
    return new Promise((resolve) => {
      const p = spawn(
        'ip',
        ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`],
        { stdio: 'ignore' },
      );
      p.on('exit', (code) => resolve(code === 0));
      p.on('error', () => resolve(false));
    });
  }
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const listenAddress = opts.listenAddress ?? '127.0.0.1';
  const port = opts.port ?? (opts.ns ? 2222 : await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tv-sshd-'));
  chmodSync(dir, 0o700);
  const hostKeyPath = join(dir, 'hostkey');
  const clientKeyPath = join(dir, 'client_ed25519');
  const type = opts.hostKeyType ?? 'ed25519';
  keygen([
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    '',
    '-C',
    'tv-sshd-host',
    '-f',
    hostKeyPath,
  ]);
  keygen(['-t', 'ed25519', '-N', '', '-C', 'tv-sshd-client', '-f', clientKeyPath]);
  chmodSync(clientKeyPath, 0o600);
  const hostPublicKey = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim();
  const fingerprintOf = (pub: string) =>
    execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(' ')[1];
  const hostFingerprint = fingerprintOf(`${hostKeyPath}.pub`);
  const hostKeys = [
    { type, path: hostKeyPath, publicKey: hostPublicKey, fingerprint: hostFingerprint },
  ];
  for (const t of opts.extraHostKeyTypes ?? []) {
    const path = join(dir, `hostkey_${t}`);
    keygen([
      '-t',
      t,
      ...(t === 'rsa' ? ['-b', '2048'] : []),
      '-N',
      '',
      '-C',
      'tv-sshd-host',
      '-f',
      path,
    ]);
    const publicKey = readFileSync(`${path}.pub`, 'utf8').trim();
    hostKeys.push({ type: t, path, publicKey, fingerprint: fingerprintOf(`${path}.pub`) });
  }
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`), { mode: 0o600 });
  const knownHostsName = port === 22 ? listenAddress : `[${listenAddress}]:${port}`;
  const knownHostsPath = join(dir, 'known_hosts');
  const [kt, kb] = hostPublicKey.split(' ');
  writeFileSync(knownHostsPath, `${knownHostsName} ${kt} ${kb}\n`, { mode: 0o600 });
  const cfgPath = join(dir, 'sshd_config');
  writeFileSync(
    cfgPath,
    [
      `Port ${port}`,
      `ListenAddress ${listenAddress}`,
      ...hostKeys.map((k) => `HostKey ${k.path}`),
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `UsePAM ${opts.usePam ? 'yes' : 'no'}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `PermitTunnel ${opts.allowTunnel ? 'yes' : 'no'}`,
      'AcceptEnv LANG LC_*',
      'LogLevel VERBOSE',
      'MaxStartups 100',
      opts.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const args = ['-D', '-e', '-f', cfgPath];
  const child: ChildProcess = opts.ns
    ? spawn('ip', ['netns', 'exec', opts.ns, '/usr/sbin/sshd', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn('/usr/sbin/sshd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  // `ip netns exec` execs sshd, so the pid is sshd's own.
  const pid = child.pid!;

  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 2000);
      await gone;
      clearTimeout(t);
    }
    // Per-connection children survive a SIGTERM of the listener; they die with their client.
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 8000);
  for (;;) {
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd exited during start-up:\n${stderr}`);
    }
    if (await canConnect(listenAddress, port, opts.ns)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `sshd did not accept connections on ${listenAddress}:${port} in time:\n${stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port,
    listenAddress,
    ns: opts.ns,
    hostKeyPath,
    hostPublicKey,
    hostFingerprint,
    hostKeys,
    knownHostsPath,
    knownHostsName,
    clientKeyPath,
    user: 'root',
    pid,
    dir,
    log: () => stderr,
    sessionPids: () => childPids(pid),
    killSessions: (signal = 'SIGKILL') => {
      const pids = childPids(pid);
      for (const p of pids) {
        try {
          process.kill(p, signal);
        } catch {
          /* gone */
        }
      }
      return pids;
    },
    stop,
  };
}
