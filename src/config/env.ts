/** What config defaults depend on outside the file: user, home, agent socket, host name, base dir. */
import { readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface ConfigEnv {
  /** Default `ssh.user`. */
  user: string;
  /** What `~` expands to. */
  home: string;
  /** Default `ssh.agent` ($SSH_AUTH_SOCK). */
  sshAuthSock: string | undefined;
  /** Default CHAP name of `ts-vpn serve`. */
  hostname: string;
  /** Relative paths in the file are resolved against this (the config file's directory). */
  baseDir: string;
  /**
   * Where running tunnels keep their state (`--state-dir`); the default `dns.write-to`
   * is `<stateRoot>/<name>/resolv.conf`. Default /run/ts-vpn.
   */
  stateRoot?: string;
}

function homeOf(user: string): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[5]) return f[5];
    }
  } catch {
    // no /etc/passwd: fall through
  }
  return undefined;
}

/**
 * The environment of this process. Under `sudo`, the invoking user ($SUDO_USER)
 * and their home are used: `sudo ts-vpn up` should connect as you, with your keys.
 */
export function defaultConfigEnv(baseDir: string = process.cwd()): ConfigEnv {
  const sudoUser = process.env.SUDO_USER;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'root';
  }
  let home = process.env.HOME ?? homedir();
  if (sudoUser && sudoUser !== 'root') {
    user = sudoUser;
    home = homeOf(sudoUser) ?? home;
  }
  return {
    user,
    home,
    sshAuthSock: process.env.SSH_AUTH_SOCK || undefined,
    hostname: hostname(),
    baseDir,
  };
}

/** `~/x` → home/x; relative → baseDir/x; absolute unchanged. */
export function expandPath(p: string, env: ConfigEnv): string {
  if (p === '~') return env.home;
  if (p.startsWith('~/')) return join(env.home, p.slice(2));
  return isAbsolute(p) ? p : resolve(env.baseDir, p);
}
