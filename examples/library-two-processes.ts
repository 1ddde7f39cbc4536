/**
 * PPP between two processes: this program starts a copy of itself as the far end
 * and runs PPP over the child's stdin/stdout (like pppd's `pty` option, without a
 * pty). The child is a PppLink in server role — the part of `ts-vpn serve` that
 * needs no root. Run: npx tsx examples/library-two-processes.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childStream, joinStreams, PppLink } from '../src/api/index.js';

if (process.argv[2] === '--far-end') {
  // Child: PPP on stdin/stdout; diagnostics go to stderr only.
  const far = new PppLink(joinStreams(process.stdin, process.stdout), {
    role: 'server',
    local: '192.168.77.1',
    peer: '192.168.77.2',
  });
  far.on('packet', (_version, data) => far.send(data)); // echo
  far.on('close', (r) => process.stderr.write(`far end: closed (${r.code}: ${r.message})\n`));
} else {
  // Parent: execArgv carries tsx's loader when run through tsx.
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--far-end'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const link = new PppLink(childStream(child), { ipv6: false });
  const info = await link.ready;
  console.log(`up: local ${info.ipv4?.local} peer ${info.ipv4?.peer} (child pid ${child.pid})`);
  const packet = new Uint8Array(24);
  packet.set([
    0x45, 0, 0, 24, 0, 0, 0, 0, 64, 253, 0, 0, 192, 168, 77, 2, 192, 168, 77, 1, 1, 2, 3, 4,
  ]);
  const echoed = new Promise<Uint8Array>((resolve) => link.once('packet', (_v, d) => resolve(d)));
  link.send(packet);
  console.log(
    `echo: ${Buffer.from(await echoed)
      .subarray(20)
      .toString('hex')}`,
  );
  await link.close();
  const code = await new Promise((resolve) => child.once('exit', resolve));
  console.log(`closed; child exited with code ${code}`);
}
