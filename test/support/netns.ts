/**
 * Test hosts in network namespaces (tests that touch interfaces, routes or traffic run
 * only inside namespaces they create and remove, with unique names).
 *
 * Every namespace, veth and temp dir is named with a per-test unique id so that
 * parallel runs never collide; `removeStale(prefix)` clears leftovers of a crashed
 * run. Nothing here touches the root namespace except creating/removing namespaces.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** True when this process may create namespaces (root with `ip` available). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a test file that needs root and namespaces can run here. Off CI it skips
 * with a message; with CI=true a missing capability fails loudly instead.
 */
export function requireNetns(what: string): boolean {
  const ok = canUseNetns();
  if (!ok) {
    if (process.env.CI === 'true')
      throw new Error(`${what} need root and ip netns (CI=true: refusing to skip)`);
    console.warn(`[${what}] skipped: needs root and ip netns to create network namespaces`);
  }
  return ok;
}

/** A short unique id usable in interface names (IFNAMSIZ is 16 including NUL). */
export function uniqueId(): string {
  return randomBytes(3).toString('hex');
}

export function sh(cmd: string, args: string[], opts: { input?: string } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `cmd args` inside namespace `ns` and returns stdout. Throws on non-zero exit. */
export function nsExec(ns: string, cmd: string, args: string[] = []): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args]);
}

/** Same as nsExec but returns {code, stdout, stderr} instead of throwing. */
export function nsTry(
  ns: string,
  cmd: string,
  args: string[] = [],
): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Spawns a long-running process inside `ns`. The caller must kill it (by pid). */
export function nsSpawn(
  ns: string,
  cmd: string,
  args: string[],
  opts: SpawnOptions = {},
): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...opts });
}

/** `ip -j …` inside a namespace, parsed. */
export function ipJson<T = unknown>(ns: string, args: string[]): T {
  const out = nsExec(ns, 'ip', ['-j', ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/**
 * Removes every namespace whose name starts with `prefix` (leftovers of a crashed run),
 * or only those of them `isStale` says are (it may also say what it removes).
 */
export function removeStale(prefix: string, isStale: (name: string) => boolean = () => true): void {
  let list = '';
  try {
    list = sh('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith(prefix) && isStale(name)) deleteNetns(name);
  }
}

export function deleteNetns(name: string): void {
  // Kill whatever still runs inside (only processes of this test's namespace).
  try {
    const pids = sh('ip', ['netns', 'pids', name]).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  } catch {
    /* namespace already gone */
  }
  try {
    sh('ip', ['netns', 'del', name]);
  } catch {
    /* already gone */
  }
}

export interface Netns {
  name: string;
  exec(cmd: string, args?: string[]): string;
  try(cmd: string, args?: string[]): { code: number; stdout: string; stderr: string };
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  destroy(): void;
}

/** Creates namespace `name` with loopback up. */
export function createNetns(name: string): Netns {
  deleteNetns(name);
  sh('ip', ['netns', 'add', name]);
  nsExec(name, 'ip', ['link', 'set', 'lo', 'up']);
  return {
    name,
    exec: (cmd, args = []) => nsExec(name, cmd, args),
    try: (cmd, args = []) => nsTry(name, cmd, args),
    spawn: (cmd, args, opts) => nsSpawn(name, cmd, args, opts),
    destroy: () => deleteNetns(name),
  };
}

/**
 * Connects two namespaces with a veth pair and gives each end an address
 * (CIDR, e.g. "198.18.0.1/30"). Interface names are `<prefix>a` / `<prefix>b`.
 */
export function linkNetns(
  a: Netns,
  aAddr: string,
  b: Netns,
  bAddr: string,
  prefix: string,
): { aIf: string; bIf: string } {
  const aIf = `${prefix}a`.slice(0, 15);
  const bIf = `${prefix}b`.slice(0, 15);
  sh('ip', [
    'link',
    'add',
    aIf,
    'netns',
    a.name,
    'type',
    'veth',
    'peer',
    'name',
    bIf,
    'netns',
    b.name,
  ]);
  a.exec('ip', ['addr', 'add', aAddr, 'dev', aIf]);
  a.exec('ip', ['link', 'set', aIf, 'up']);
  b.exec('ip', ['addr', 'add', bAddr, 'dev', bIf]);
  b.exec('ip', ['link', 'set', bIf, 'up']);
  return { aIf, bIf };
}
