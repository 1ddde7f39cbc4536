/**
 * Throughput of SshTransport against a real loopback sshd (a measurement, not a test):
 *   npx tsx test/transport/throughput.ts [MiB=64] [writeKiB=64]
 * up:   exec `cat > /dev/null`, MiB written in writeKiB writes, timed until the remote exits
 * down: exec `head -c N /dev/zero`, timed until all bytes arrived
 */
import { performance } from 'node:perf_hooks';
import { openSshTransport } from '../../src/transport/ssh.js';
import { startSshd } from '../support/sshd.js';

const mib = Number(process.argv[2] ?? 64);
const writeKiB = Number(process.argv[3] ?? 64);
const total = mib * 1024 * 1024;

const sshd = await startSshd();
const opts = {
  host: sshd.listenAddress,
  port: sshd.port,
  user: sshd.user,
  identities: [sshd.clientKeyPath],
  agent: false as const,
  hostKey: { knownHostsFiles: [sshd.knownHostsPath] },
};
try {
  for (let round = 0; round < 3; round++) {
    const up = await openSshTransport({
      ...opts,
      command: process.env.UP_CMD ?? 'cat > /dev/null',
    });
    const chunk = new Uint8Array(writeKiB * 1024).fill(0x5a);
    const t0 = performance.now();
    let sent = 0;
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      if (!up.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
        await new Promise<void>((r) => up.once('drain', r));
    }
    await up.close(); // EOF, remote cat exits after reading everything
    const reason = await up.closed;
    const upMs = performance.now() - t0;

    const down = await openSshTransport({ ...opts, command: `head -c ${total} /dev/zero` });
    let got = 0;
    const t1 = performance.now();
    down.onData((d) => {
      got += d.length;
    });
    await down.closed;
    const downMs = performance.now() - t1;
    console.log(
      `round ${round + 1}: up ${(total / 1e6 / (upMs / 1000)).toFixed(0)} MB/s (${writeKiB} KiB writes, exit ${reason.exitCode}), ` +
        `down ${(got / 1e6 / (downMs / 1000)).toFixed(0)} MB/s (${got === total ? 'complete' : `INCOMPLETE ${got}`}); ` +
        `cipher ${up.info.cipher}, kex ${up.info.kex}, handshake ${up.info.handshakeMs} ms, auth ${up.info.authMs} ms, backpressured ${up.stats.backpressured}/${up.stats.writes}`,
    );
  }
} finally {
  await sshd.stop();
}
