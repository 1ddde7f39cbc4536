/**
 * A real, stock pppd 2.4.9 in a tiny qemu VM (assets from scripts/pppd-vm/build.sh).
 *
 * The VM's first serial port (/dev/ttyS0, where pppd runs) is a qemu socket chardev
 * connected to a unix socket we listen on: the PPP byte stream is a plain
 * `net.Socket` here. The second serial port is the console: init's markers
 * (TV-BOOT, TV-PPPD-START, TV-PPPD-EXIT) and pppd's own `debug` log
 * (`nodetach logfd 2`) arrive on qemu's stdout. The third one (ttyS2, another
 * unix socket) carries what the ip-up/ipv6-up scripts print (TV-IP-UP, TV-IPV6-UP,
 * ping output). The VM powers off when
 * pppd exits. `stop()` kills qemu by its pid and removes the temp dir.
 *
 * Nothing here touches the network: the VM has no network device at all, only the
 * two serial lines.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD_SCRIPT = join(REPO, 'scripts', 'pppd-vm', 'build.sh');
export const CACHE_DIR = process.env.PPPD_VM_CACHE ?? '/var/cache/ts-vpn-pppd-vm';

export interface PppdVmAssets {
  kernel: string;
  initrd: string;
  /** 'kvm' when a KVM boot worked at build time, else 'tcg' (PPPD_VM_ACCEL overrides). */
  accel: 'kvm' | 'tcg';
  /** Package versions (versions.txt). */
  versions: string;
}

/** The built assets, or null when they are missing (or qemu is). */
export function pppdVmAssets(): PppdVmAssets | null {
  const kernel = join(CACHE_DIR, 'vmlinux');
  const initrd = join(CACHE_DIR, 'initramfs.gz');
  if (!existsSync(kernel) || !existsSync(initrd)) return null;
  // Built by this very build.sh + init.sh? (build.sh writes the same hash to `stamp`.)
  const stampFile = join(CACHE_DIR, 'stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8').trim() !== assetStamp())
    return null;
  if (spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const probed = existsSync(join(CACHE_DIR, 'accel'))
    ? readFileSync(join(CACHE_DIR, 'accel'), 'utf8').trim()
    : 'tcg';
  const env = process.env.PPPD_VM_ACCEL;
  const accel = env === 'kvm' || env === 'tcg' ? env : probed === 'kvm' ? 'kvm' : 'tcg';
  const versions = existsSync(join(CACHE_DIR, 'versions.txt'))
    ? readFileSync(join(CACHE_DIR, 'versions.txt'), 'utf8')
    : '';
  return { kernel, initrd, accel, versions };
}

/** The hash build.sh stamps its output with: sha256 of build.sh then init.sh, first 16 hex digits. */
export function assetStamp(): string {
  const h = createHash('sha256');
  h.update(readFileSync(BUILD_SCRIPT));
  h.update(readFileSync(join(REPO, 'scripts', 'pppd-vm', 'init.sh')));
  return h.digest('hex').slice(0, 16);
}

/** Runs build.sh (idempotent); throws with its output on failure. */
export function buildPppdVmAssets(): void {
  const r = spawnSync('bash', [BUILD_SCRIPT], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  });
  if (r.status !== 0)
    throw new Error(
      `scripts/pppd-vm/build.sh failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
}

export interface PppdVmOptions {
  /** pppd arguments after `/dev/ttyS0 115200 local nocrtscts nodetach logfd 2`, one word each. */
  args: string[];
  /** /etc/ppp/pap-secrets */
  papSecrets?: string;
  /** /etc/ppp/chap-secrets */
  chapSecrets?: string;
  /** Shell run by /etc/ppp/ip-up (output on the console): $1 iface, $4 local, $5 remote. */
  ipUp?: string;
  /** Shell run by /etc/ppp/ipv6-up: $4 local, $5 remote link-local. */
  ipv6Up?: string;
  /** The guest reboots (ending qemu) after this many seconds whatever happens; default 150. */
  ttlSeconds?: number;
  /** Resolve only once init has set the PPP line raw (TV-BOOT); default true. */
  waitForBoot?: boolean;
  /** How long to wait for TV-BOOT; default 60 s. */
  bootTimeoutMs?: number;
  /** Give up if qemu has not connected the PPP line after this long; default 15 s. */
  connectTimeoutMs?: number;
}

export interface PppdVm {
  /** qemu's pid (stop() kills exactly this). */
  pid: number;
  /** The PPP line: bytes written here arrive on the guest's /dev/ttyS0. */
  line: Socket;
  accel: 'kvm' | 'tcg';
  /** Console output so far (init markers, pppd's debug log), CRs removed. */
  log(): string;
  /** What the ip-up/ipv6-up scripts printed (ttyS2), CRs removed. */
  scriptLog(): string;
  /** Resolves with the match once the console or the script output matches `re`; rejects on VM exit or timeout (with the logs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** pppd's exit status (TV-PPPD-EXIT), once the VM is off; null if it never said. */
  exited: Promise<{
    pppdStatus: number | null;
    code: number | null;
    signal: NodeJS.Signals | null;
  }>;
  /** Kills qemu (SIGTERM, then SIGKILL) by pid if still running, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Boots the VM with pppd configured by `opts`; resolves once the guest has booted and set the PPP line raw (pppd starts right after). */
export async function startPppdVm(opts: PppdVmOptions): Promise<PppdVm> {
  const assets = pppdVmAssets();
  if (assets === null)
    throw new Error(`pppd VM assets missing in ${CACHE_DIR}: run scripts/pppd-vm/build.sh`);
  for (const a of opts.args)
    if (a.includes('\n')) throw new Error(`pppd argument with a newline: ${JSON.stringify(a)}`);
  const dir = mkdtempSync(join(tmpdir(), 'tv-pppd-vm-'));
  const sockPath = join(dir, 'ppp.sock');
  const auxPath = join(dir, 'aux.sock');

  // no_timer_check: under TCG on a busy host the IO-APIC timer check may fail and panic.
  const cmdline = [
    'console=ttyS1',
    'quiet',
    'no_timer_check',
    'loglevel=3',
    'panic=-1',
    `tv_ttl=${opts.ttlSeconds ?? 150}`,
    `tv_argv=${b64(`${opts.args.join('\n')}\n`)}`,
  ];
  if (opts.papSecrets !== undefined) cmdline.push(`tv_pap=${b64(opts.papSecrets)}`);
  if (opts.chapSecrets !== undefined) cmdline.push(`tv_chap=${b64(opts.chapSecrets)}`);
  if (opts.ipUp !== undefined) cmdline.push(`tv_ipup=${b64(opts.ipUp)}`);
  if (opts.ipv6Up !== undefined) cmdline.push(`tv_ip6up=${b64(opts.ipv6Up)}`);
  const append = cmdline.join(' ');
  if (append.length > 2000)
    throw new Error(`kernel command line too long (${append.length} > 2000)`);

  // We listen; qemu connects at start-up, before the guest runs: no byte is lost.
  const listen = async (path: string): Promise<{ server: Server; connected: Promise<Socket> }> => {
    const server = createServer();
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(path, () => res());
    });
    return { server, connected: new Promise<Socket>((res) => server.once('connection', res)) };
  };
  const ppp = await listen(sockPath);
  const aux = await listen(auxPath);

  const args = [
    '-accel',
    assets.accel,
    // No ACPI: its set-up costs seconds under TCG; init ends the VM with `reboot -f`.
    '-M',
    'pc,acpi=off',
    '-m',
    '256',
    '-smp',
    '1',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    assets.kernel,
    '-initrd',
    assets.initrd,
    '-chardev',
    `socket,id=ppp,path=${sockPath}`,
    '-serial',
    'chardev:ppp',
    '-chardev',
    'stdio,id=con,signal=off',
    '-serial',
    'chardev:con',
    '-chardev',
    `socket,id=aux,path=${auxPath}`,
    '-serial',
    'chardev:aux',
    '-append',
    append,
  ];
  const child: ChildProcess = spawn('qemu-system-x86_64', args, {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    ppp.server.close();
    aux.server.close();
    rmSync(dir, { recursive: true, force: true });
    throw new Error('qemu-system-x86_64 did not start');
  }
  let out = '';
  let scripts = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString('utf8').replace(/\r/g, '');
    for (const w of [...waiters]) w();
  };
  const onAux = (d: Buffer) => {
    scripts += d.toString('utf8').replace(/\r/g, '');
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', (d: Buffer) => onData(Buffer.from(`[qemu] ${d.toString('utf8')}`)));
  let running = true;
  const exited = new Promise<{
    pppdStatus: number | null;
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((res) => {
    child.once('exit', (code, signal) => {
      running = false;
      const m = /TV-PPPD-EXIT (\d+)/.exec(out);
      for (const w of [...waiters]) w();
      res({ pppdStatus: m ? Number(m[1]) : null, code, signal });
    });
  });

  let stopped = false;
  let line: Socket | null = null;
  let auxLine: Socket | null = null;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    line?.destroy();
    auxLine?.destroy();
    ppp.server.close();
    aux.server.close();
    if (running) {
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (running) child.kill('SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const waitFor = (re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> =>
    new Promise((res, rej) => {
      const check = () => {
        const m = re.exec(out) ?? re.exec(scripts);
        if (m) {
          done();
          res(m);
        } else if (!running) {
          done();
          rej(new Error(`VM exited before ${re} appeared; console:\n${out}\nscripts:\n${scripts}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        rej(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${re}; console:\n${out}\nscripts:\n${scripts}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  try {
    [line, auxLine] = await Promise.race([
      Promise.all([ppp.connected, aux.connected]),
      exited.then(() => {
        throw new Error(`qemu exited before connecting the PPP line:\n${out}`);
      }),
      new Promise<never>((_, rej) =>
        setTimeout(
          () =>
            rej(
              new Error(
                `qemu did not connect the PPP line within ${opts.connectTimeoutMs ?? 15_000} ms:\n${out}`,
              ),
            ),
          opts.connectTimeoutMs ?? 15_000,
        ).unref(),
      ),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  ppp.server.close();
  aux.server.close();
  auxLine.on('data', onAux);
  auxLine.on('error', () => undefined);
  if (opts.waitForBoot !== false) {
    // Until init has put ttyS0 in raw -echo mode, whatever we send would be echoed
    // back by the tty the moment it is opened (cooked mode): the peer then sees its
    // own Configure-Requests. A real pppd line is set up before the peer talks.
    try {
      await waitFor(/^TV-BOOT /m, opts.bootTimeoutMs ?? 60_000);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return {
    pid,
    line,
    accel: assets.accel,
    log: () => out,
    scriptLog: () => scripts,
    waitFor,
    exited,
    stop,
  };
}

/** pppd's debug lines from a console log (drops init markers and kernel noise). */
export function pppdLines(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('TV-') && !/^\[\s*\d+\.\d+\]/.test(l));
}
