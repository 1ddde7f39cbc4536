/**
 * The `ssh -w` baseline every bench compares against: one command line (OpenSSH's own
 * tunnel, point-to-point, host key checked, no config file), the TUN devices it makes and
 * how a child is stopped. bench/tunnel, bench/gateway and bench/startup share it so that
 * "ssh -w" means the same thing in each RESULTS table.
 */
import type { ChildProcess } from 'node:child_process';
import type { Netns } from '../../test/support/netns.js';

export interface SshTunnelTarget {
  /** Client private key (IdentitiesOnly). */
  key: string;
  knownHosts: string;
  host: string;
  port: number;
  user?: string;
  /** e.g. aes128-gcm@openssh.com, to match what ts-vpn negotiates; OpenSSH's default if unset. */
  cipher?: string;
  /** -v: OpenSSH's own timeline on stderr. */
  verbose?: boolean;
}

/** `ssh` arguments for `-w any:any` to `target`, nothing read from ~/.ssh or /etc/ssh. */
export function sshTunnelArgs(target: SshTunnelTarget): string[] {
  return [
    ...(target.verbose ? ['-v'] : []),
    '-F',
    '/dev/null',
    '-N',
    '-T',
    '-i',
    target.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${target.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    ...(target.cipher ? ['-o', `Ciphers=${target.cipher}`] : []),
    '-o',
    'Tunnel=point-to-point',
    '-w',
    'any:any',
    '-o',
    'ExitOnForwardFailure=yes',
    '-p',
    String(target.port),
    `${target.user ?? 'root'}@${target.host}`,
  ];
}

/** Names of the TUN devices in a namespace. */
function tunDevices(ns: Netns): string[] {
  const out = ns.exec('ip', ['-d', '-j', 'link', 'show']);
  const links = JSON.parse(out) as Array<{ ifname: string; linkinfo?: { info_kind?: string } }>;
  return links.filter((l) => l.linkinfo?.info_kind === 'tun').map((l) => l.ifname);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until a new TUN device (not in `before`, taken before ssh was spawned) exists on
 * both sides, which is what `ssh -w` makes once the tunnel is forwarded; throws with ssh's
 * stderr if it exits first or `timeoutMs` passes.
 */
export async function waitForNewTuns(
  ssh: ChildProcess,
  cli: Netns,
  srv: Netns,
  before: { cli: Set<string>; srv: Set<string> },
  stderr: () => string,
  opts: { timeoutMs: number; pollMs: number },
): Promise<{ cli: string; srv: string }> {
  let a: string | undefined;
  let b: string | undefined;
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline && (!a || !b)) {
    if (ssh.exitCode !== null) throw new Error(`ssh -w exited: ${stderr().trim()}`);
    a ??= tunDevices(cli).find((n) => !before.cli.has(n));
    b ??= tunDevices(srv).find((n) => !before.srv.has(n));
    if (!a || !b) await sleep(opts.pollMs);
  }
  if (!a || !b) throw new Error(`ssh -w: tun devices did not appear: ${stderr().trim()}`);
  return { cli: a, srv: b };
}

/** The TUN devices of both namespaces now, for waitForNewTuns. */
export function tunSnapshot(cli: Netns, srv: Netns): { cli: Set<string>; srv: Set<string> } {
  return { cli: new Set(tunDevices(cli)), srv: new Set(tunDevices(srv)) };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(p: ChildProcess, graceMs = 2000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null || !p.pid) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(p.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  await gone;
  clearTimeout(t);
}
