/**
 * The demo behind scripts/demo.sh: lab namespaces + real sshd (test/support/lab.ts),
 * `ts-vpn up` in the client namespace, ping and a 20 MB TCP transfer to a LAN host
 * behind the server, `ts-vpn status`, then SIGTERM and proof that nothing is left.
 * Always cleans up; exits non-zero if any step failed.
 */
import { performance } from 'node:perf_hooks';
import {
  createLab,
  LAN_ADDR,
  LAN_NET,
  type Lab,
  links,
  routes,
  tcpTransfer,
  type UpProcess,
  until,
} from '../test/support/lab.js';

const t0 = performance.now();
let failures = 0;
let lab: Lab | null = null;
let up: UpProcess | null = null;
let shown = 0;

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);

function heading(n: number, title: string): void {
  console.log(
    `\n${bold(`== ${n}. ${title}`)}  ${`(t=${((performance.now() - t0) / 1000).toFixed(1)} s)`}`,
  );
}

function indent(text: string, prefix = '   '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

/** Prints ts-vpn up's log lines not shown yet. */
function showLog(): void {
  if (!up) return;
  const text = up.log();
  const fresh = text.slice(shown);
  shown = text.length;
  if (fresh.trim()) console.log(indent(fresh, '   | '));
}

function check(ok: boolean, what: string): void {
  console.log(`   ${ok ? green('OK  ') : red('FAIL')} ${what}`);
  if (!ok) failures++;
}

async function main(): Promise<void> {
  heading(1, 'Lab: three network namespaces, a real OpenSSH sshd in the server namespace');
  lab = await createLab({ id: process.env.TSVPN_DEMO_ID });
  console.log(
    indent(`client  ${lab.cli.name}  198.18.0.1/30   (runs: ts-vpn up)
server  ${lab.srv.name}  198.18.0.2/30   (runs: sshd on :2222, which starts ts-vpn serve)
        ${' '.repeat(lab.srv.name.length)}  198.18.16.1/24
LAN     ${lab.lan.name}  198.18.16.2/24  (a host behind the server)
peer.yaml: ${lab.peerYaml}`),
  );

  heading(2, `ts-vpn up (in ${lab.cli.name})`);
  up = await lab.startUp();
  showLog();

  heading(3, `ping ${LAN_ADDR} (LAN host behind the server) through the tunnel`);
  const ping = lab.cli.try('ping', ['-c', '3', '-i', '0.2', '-W', '2', LAN_ADDR]);
  console.log(
    indent(
      ping.stdout
        .split('\n')
        .filter((l) => /bytes from|packets transmitted|rtt/.test(l))
        .join('\n'),
    ),
  );
  check(ping.code === 0, 'LAN host answers through the tunnel');
  const back = lab.lan.try('ping', [
    '-c',
    '1',
    '-W',
    '2',
    /tunnel up: \S+ (\S+)/.exec(up.log())?.[1] ?? '0.0.0.0',
  ]);
  check(
    back.code === 0,
    'LAN host reaches the client tunnel address (return route via the server)',
  );

  heading(4, 'Move 20 MB over TCP: client → LAN host, through the tunnel');
  const size = 20 * 1024 * 1024;
  const r = await tcpTransfer(lab.cli, lab.lan, LAN_ADDR, size);
  console.log(indent(`sent     ${r.sent.bytes} bytes  sha256 ${r.sent.sha256}`));
  console.log(indent(`received ${r.received.bytes} bytes  sha256 ${r.received.sha256}`));
  console.log(
    indent(`throughput ${r.mbps.toFixed(0)} Mbit/s (${(r.received.ms / 1000).toFixed(2)} s)`),
  );
  check(
    r.received.bytes === size && r.received.sha256 === r.sent.sha256,
    'all bytes arrived, sha256 matches',
  );

  heading(5, 'ts-vpn status');
  const st = lab.runCli(['status', lab.name]);
  console.log(indent(st.stdout || st.stderr));
  check(st.code === 0, 'status answered over the control socket');

  heading(6, 'SIGTERM: graceful teardown on both ends');
  const servesBefore = lab.servePids().length;
  const exit = await up.stop('SIGTERM');
  showLog();
  check(exit.code === 0, `ts-vpn up exited with code ${exit.code}`);
  const cliLinks = links(lab.cli).map((l) => l.ifname);
  const cliRoutes = routes(lab.cli).map((x) => x.dst);
  console.log(indent(`client interfaces: ${cliLinks.join(', ')}`));
  console.log(indent(`client routes:     ${cliRoutes.join(', ')}`));
  check(!cliLinks.some((n) => n.startsWith('tsvpn')), 'client TUN interface removed');
  check(!cliRoutes.includes(LAN_NET), `route ${LAN_NET} removed`);
  let serverClean = true;
  try {
    await until(
      () =>
        lab!.servePids().length === 0 && !links(lab!.srv).some((l) => l.ifname.startsWith('tsvs')),
      5000,
      'server cleanup',
    );
  } catch {
    serverClean = false;
  }
  const srvLinks = links(lab.srv).map((l) => l.ifname);
  console.log(
    indent(
      `server interfaces: ${srvLinks.join(', ')}  (ts-vpn serve processes: ${servesBefore} before, ${lab.servePids().length} now)`,
    ),
  );
  check(serverClean, 'ts-vpn serve exited and removed its TUN interface');
}

process.on('SIGINT', () => {
  console.log('\ninterrupted: cleaning up');
  void (lab?.destroy() ?? Promise.resolve()).finally(() => process.exit(130));
});

try {
  await main();
} catch (err) {
  failures++;
  console.log(red(`\ndemo step failed: ${(err as Error).message}`));
  showLog();
} finally {
  heading(7, 'Clean-up: namespaces, sshd and temp files removed');
  await lab?.destroy();
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    failures === 0
      ? green(`\ndemo passed in ${total} s`)
      : red(`\ndemo: ${failures} step(s) failed (${total} s)`),
  );
  process.exitCode = failures === 0 ? 0 : 1;
}
