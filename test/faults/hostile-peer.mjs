#!/usr/bin/env node
/**
 * A malicious far end, run by sshd as the remote command instead of
 * `ts-vpn serve`: a real PppEngine (server addresses 10.77.0.1 / 10.77.0.2,
 * from the built dist/) with hostile behaviour layered on top.
 *
 *   node hostile-peer.mjs <scenario>
 *
 * confreq-flood   never negotiates: floods LCP Configure-Requests with an option nobody takes
 * nak-bad-address Naks the client's IPCP request with 192.0.2.1 (outside accept-local), forever
 * nak-forever     Naks the client's IPCP request with a new in-pool address every time, forever
 * oversize        behaves, but also sends 20 KB LCP and IP frames every 100 ms
 * protrej-lcp     Protocol-Rejects LCP itself once LCP is open
 * ip-before-ipcp  sends 200 IP packets as soon as LCP is open, before IPCP, then behaves
 *
 * Bounded: exits after 25 s, when stdin closes, or after 50,000 flood frames.
 */
import { PppEngine } from '../../dist/engine/index.js';
import { HdlcDeframer, HdlcFramer } from '../../dist/hdlc/index.js';

const scenario = process.argv[2] ?? 'oversize';
const t0 = Date.now();
const now = () => Date.now() - t0;
const out = new HdlcFramer({ maxPending: 8 << 20 });
let rnd = 0x12345678;
const random32 = () => {
  rnd ^= rnd << 13;
  rnd ^= rnd >>> 17;
  rnd ^= rnd << 5;
  return rnd >>> 0;
};

const engine = new PppEngine({
  random32,
  lcp: { restartMs: 1000 },
  ipcp: {
    local: '10.77.0.1',
    peer: '10.77.0.2',
    acceptLocal: (a) => a === '10.77.0.1',
    acceptPeer: (a) => a === '10.77.0.2',
    maxFailure: 100,
  },
  ipv6cp: false,
});

function write(bytes) {
  if (bytes && bytes.length > 0) process.stdout.write(bytes);
}
function ctl(code, id, data) {
  const p = new Uint8Array(4 + data.length);
  p[0] = code;
  p[1] = id;
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p.set(data, 4);
  return p;
}
function send(protocol, info) {
  out.writeFrame(protocol, info, true);
  write(out.take());
}

let naks = 0;
const reframe = new HdlcFramer({ maxPending: 8 << 20 });
const inbound = new HdlcDeframer(
  (protocol, info) => {
    // IPCP Configure-Requests from the client get our hostile Nak instead of the engine's answer.
    if (
      (scenario === 'nak-bad-address' || scenario === 'nak-forever') &&
      protocol === 0x8021 &&
      info[0] === 1
    ) {
      const addr = scenario === 'nak-bad-address' ? [192, 0, 2, 1] : [10, 77, 0, 50 + (naks % 150)];
      naks++;
      send(0x8021, ctl(3, info[1], Uint8Array.from([3, 6, ...addr])));
      return;
    }
    reframe.writeFrame(protocol, info, true);
    engine.receive(reframe.take(), now());
  },
  { accm: 0, maxInfo: 65535 },
);

let lcpUp = false;
function pump() {
  engine.handleTimeout(now());
  for (const e of engine.takeEvents()) {
    if (e.type === 'lcp-up' && !lcpUp) {
      lcpUp = true;
      if (scenario === 'protrej-lcp') {
        write(engine.takeOutput());
        send(0xc021, ctl(8, 99, Uint8Array.from([0xc0, 0x21, 1, 1, 0, 4])));
      }
      if (scenario === 'ip-before-ipcp') {
        const ip = new Uint8Array(84);
        ip[0] = 0x45;
        ip[3] = 84;
        ip[8] = 64;
        ip[9] = 1;
        ip.set([10, 77, 0, 1, 10, 77, 0, 2], 12);
        for (let i = 0; i < 200; i++) out.writeFrame(0x21, ip, false);
      }
    }
    if (e.type === 'finished') setTimeout(() => process.exit(0), 200);
  }
  write(engine.takeOutput());
  write(out.take());
}

if (scenario === 'confreq-flood') {
  let sent = 0;
  const flood = setInterval(() => {
    for (let i = 0; i < 100 && sent < 50_000; i++, sent++)
      out.writeFrame(0xc021, ctl(1, sent & 0xff, Uint8Array.from([0x99, 4, 1, 2])), true);
    write(out.take());
    if (sent >= 50_000) clearInterval(flood);
  }, 2);
  process.stdin.on('data', () => {});
} else {
  engine.open(now());
  process.stdin.on('data', (b) => {
    inbound.push(b);
    pump();
  });
  setInterval(pump, 50);
  if (scenario === 'oversize') {
    setInterval(() => {
      out.writeFrame(0xc021, ctl(9, 1, new Uint8Array(20_000)), true);
      out.writeFrame(0x21, new Uint8Array(20_000).fill(0x45), false);
      write(out.take());
    }, 100);
  }
}
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(0), 25_000);
