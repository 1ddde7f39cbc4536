/**
 * Micro-benchmark of ts-vpn's per-packet CPU path without any I/O: engine A frames IP
 * packets (sendIp → takeOutput, batches like a TUN read), engine B deframes them
 * (receive in 64 KiB chunks, like channel reads) and hands out the packets.
 * `npx tsx bench/tunnel/engine-path.ts` → MB/s and µs per packet each way.
 * Run with `node --cpu-prof --import tsx …` to see where the time goes.
 */
import { PppEngine } from '../../src/engine/index.js';

function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

let delivered = 0;
let deliveredBytes = 0;
const a = new PppEngine({
  random32: rng(1),
  ipcp: { local: '10.0.0.1', peer: '10.0.0.2' },
  ipv6cp: false,
});
const b = new PppEngine(
  { random32: rng(2), ipcp: { local: '10.0.0.2', peer: '10.0.0.1' }, ipv6cp: false },
  (_v, p) => {
    delivered++;
    deliveredBytes += p.length;
  },
);
let now = 0;
a.open(now);
b.open(now);
for (let i = 0; i < 50; i++) {
  const oa = a.takeOutput();
  if (oa) b.receive(oa, now);
  const ob = b.takeOutput();
  if (ob) a.receive(ob, now);
  a.takeEvents();
  b.takeEvents();
  now += 1;
}

const SIZE = Number(process.env.PKT ?? 1400);
const BATCH = 32;
const packets: Uint8Array[] = [];
const r = rng(7);
for (let i = 0; i < 64; i++) {
  const p = new Uint8Array(SIZE);
  for (let j = 0; j < SIZE; j++) p[j] = r() & 0xff;
  p[0] = 0x45;
  packets.push(p);
}
const seconds = Number(process.env.SECONDS ?? 3);
let sent = 0;
let frameNs = 0;
let deframeNs = 0;
const stop = performance.now() + seconds * 1000;
let i = 0;
while (performance.now() < stop) {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < BATCH; k++) {
    if (!a.sendIp(packets[i++ & 63]!, now)) throw new Error('dropped');
    sent++;
  }
  const out = a.takeOutput()!;
  const t1 = process.hrtime.bigint();
  for (let off = 0; off < out.length; off += 65536) b.receive(out.subarray(off, off + 65536), now);
  const t2 = process.hrtime.bigint();
  frameNs += Number(t1 - t0);
  deframeNs += Number(t2 - t1);
}
if (delivered !== sent) throw new Error(`lost: sent ${sent} delivered ${delivered}`);
const mb = (sent * SIZE) / 1e6;
console.log(
  `packets ${sent} x ${SIZE} B: frame ${(mb / (frameNs / 1e9)).toFixed(0)} MB/s (${(frameNs / sent / 1000).toFixed(2)} µs/pkt), ` +
    `deframe ${(mb / (deframeNs / 1e9)).toFixed(0)} MB/s (${(deframeNs / sent / 1000).toFixed(2)} µs/pkt), bytes ${deliveredBytes}`,
);
