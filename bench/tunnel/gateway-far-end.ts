/**
 * `BENCH_FAR_END=gateway`: the ts-vpn path's far end is one `ts-vpn gateway` daemon in the
 * server namespace instead of `ts-vpn serve` per connection; `up` reaches its unix socket
 * through sshd's direct-streamlocal channel (peer.yaml `remote: { gateway: <socket> }`),
 * one process fewer on the path than `serve` (no exec, no stdio pipes).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../test/support/netns.js';

export interface GatewayFarEnd {
  socket: string;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

export function farEndIsGateway(): boolean {
  return process.env.BENCH_FAR_END === 'gateway';
}

/** Starts the daemon (config in `dir`, the same pool as serve's) and waits for its socket. */
export async function startGatewayFarEnd(o: {
  srv: Netns;
  cliJs: string;
  dir: string;
  pool: string;
  env: NodeJS.ProcessEnv;
  track: (p: ChildProcess) => ChildProcess;
}): Promise<GatewayFarEnd> {
  const socket = join(o.dir, 'gateway.sock');
  const yaml = join(o.dir, 'gateway.yaml');
  writeFileSync(
    yaml,
    `socket: { path: ${socket} }\npool: ${o.pool}\nforwarding: enable\nstate-dir: ${join(o.dir, 'gw-state')}\n`,
  );
  const child = o.track(
    o.srv.spawn(
      process.execPath,
      [o.cliJs, 'gateway', yaml, '--state-dir', join(o.dir, 'gw-state')],
      { stdio: ['ignore', 'ignore', 'pipe'], env: o.env },
    ),
  );
  let text = '';
  child.stderr!.on('data', (d: Buffer) => {
    text = (text + d.toString('utf8')).slice(-20_000);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`ts-vpn gateway did not open ${socket}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { socket, pid: child.pid!, log: () => text, stop };
}
