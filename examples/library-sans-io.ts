/**
 * The sans-IO engine with a fake clock: two PppEngines wired back to back in
 * memory, no sockets, no timers. Time only moves when we say so, so a whole
 * negotiation — including a lost first Configure-Request and its 3 s
 * retransmission — runs in microseconds and is exactly reproducible.
 * Run: npx tsx examples/library-sans-io.ts
 */
import { type EngineEvent, PppEngine } from '../src/api/index.js';

let seed = 7;
const random32 = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
};

let now = 0; // the fake clock, in ms
const a = new PppEngine({ random32, ipcp: { local: '10.1.0.1', peer: '10.1.0.2' }, ipv6cp: false });
const b = new PppEngine({ random32, ipcp: {}, ipv6cp: false }, (version, packet) => {
  console.log(`b received IPv${version} packet of ${packet.length} bytes at t=${now} ms`);
});

function report(name: string, events: EngineEvent[]): void {
  for (const e of events)
    if (e.type === 'ipv4-up')
      console.log(`${name}: IPCP up at t=${now} ms, local ${e.local} peer ${e.peer}`);
}

// One step of the I/O loop: move output across, deliver events.
let dropNext = true; // lose a's first frame to show the restart timer
function pump(): void {
  for (let moved = true; moved; ) {
    moved = false;
    const outA = a.takeOutput();
    if (outA) {
      moved = true;
      if (dropNext) dropNext = false;
      else b.receive(outA, now); // receive(bytes, now)
    }
    const outB = b.takeOutput();
    if (outB) {
      moved = true;
      a.receive(outB, now);
    }
  }
  report('a', a.takeEvents());
  report('b', b.takeEvents());
}

a.open(now);
b.open(now);
pump();
// The timer loop: jump to the next deadline instead of waiting for it.
while (a.stats().states.ipcp !== 'Opened' || b.stats().states.ipcp !== 'Opened') {
  const deadline = Math.min(a.nextDeadline() ?? Infinity, b.nextDeadline() ?? Infinity);
  if (deadline === Infinity) throw new Error('stuck: no deadline');
  now = deadline;
  a.handleTimeout(now);
  b.handleTimeout(now);
  pump();
}
const packet = new Uint8Array(20);
packet.set([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 10, 1, 0, 1, 10, 1, 0, 2]);
a.sendIp(packet, now);
pump();
a.close(now);
pump();
// b acknowledged the Terminate-Request and waits one restart period (RFC 1661 Stopping).
for (let d = b.nextDeadline(); d !== null; d = b.nextDeadline()) {
  now = d;
  b.handleTimeout(now);
  pump();
}
console.log(`t=${now} ms: a: phase ${a.phase}, b: phase ${b.phase}`);
