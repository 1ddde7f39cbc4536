/**
 * Embedding connect(): bring a tunnel up from a peer.yaml like `ts-vpn up` does
 * (SSH, PPP, TUN device, routes — needs root), print its status every few
 * seconds, close it on Ctrl-C.
 * Run: sudo npx tsx examples/library-connect.ts /etc/ts-vpn/office.yaml
 */
import { connect, isPppLinkError } from '../src/index.js';

const path = process.argv[2];
if (!path) {
  console.error('usage: library-connect.ts <peer.yaml>');
  process.exit(2);
}

const ac = new AbortController();
process.once('SIGINT', () => ac.abort(new Error('interrupted')));

try {
  const vpn = await connect(path, { log: (line) => console.error(line), signal: ac.signal });
  const show = () => {
    const s = vpn.status();
    console.log(
      `${s.phase} ${s.interface ?? '-'} ${s.local ?? '-'} → ${s.peer ?? '-'}  tx ${s.tx.packets} rx ${s.rx.packets} rtt ${s.echo.lastRttMs ?? '-'} ms`,
    );
  };
  show();
  const timer = setInterval(show, 5000);
  // Ctrl-C (the signal) closes the tunnel; so does the link dying for good.
  const exit = await vpn.done;
  clearInterval(timer);
  console.log(`tunnel ended: ${exit.kind}: ${exit.message}`);
} catch (err) {
  if (isPppLinkError(err)) console.error(`connect failed (${err.code}): ${err.message}`);
  else throw err;
  process.exitCode = 1;
}
