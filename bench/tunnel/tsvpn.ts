/**
 * Plugs ts-vpn into the tunnel benchmark: `ts-vpn serve` at the far end (through the
 * benchmark's sshd) and `ts-vpn up peer.yaml` in the client namespace, with the same
 * cipher. Pending until the CLI exists.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../test/support/netns.js';
import type { Sshd } from '../../test/support/sshd.js';

export interface TsVpnOptions {
  root: string;
  cli: Netns;
  srv: Netns;
  sshd: Sshd;
  host: string;
  port: number;
  cipher: string;
  track: (p: ChildProcess) => ChildProcess;
  progress: (msg: string) => void;
  /** Run both ends with --cpu-prof into this dir. */
  profileDir?: string;
}

export interface TsVpnHandle {
  /** Pid of `ts-vpn up`. */
  pid: number;
  /** The far end's tunnel address (iperf3 server binds here, ping targets it). */
  peerAddress: string;
  localAddress: string;
  handshakeMs?: number;
  totalUpMs?: number;
  bringUpText: string;
  stop(): Promise<void>;
}

/** true, or why ts-vpn cannot be benchmarked yet. */
export function tsVpnAvailable(root: string): true | string {
  if (!existsSync(join(root, 'dist/cli/main.js')))
    return 'dist/cli/main.js not built (ts-vpn up/serve not there yet)';
  return 'ts-vpn up not wired into the benchmark yet';
}

export async function startTsVpn(_opts: TsVpnOptions): Promise<TsVpnHandle> {
  throw new Error('not implemented');
}
