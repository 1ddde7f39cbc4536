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
 * claim           an ordinary far end whose addresses come from the command line:
 *                   node hostile-peer.mjs claim <its address> <client address> <dns>
 *                 (the client's LAN gateway, a LAN address for the client, a LAN DNS server)
 * forge-text      once LCP is open, writes a forged log line ("\r\x1b[2K tunnel up: forged",
 *                 plus an 8-bit CSI) to its stderr, then a Terminate-Request with it as reason
 *
 * TCP offload (GSO frames, protocol 0x2a21 = virtio_net_hdr + IP packet). In these the peer
 * also runs IPv6CP and answers ICMP echo requests to 10.77.0.1 itself (so `ping` through the
 * tunnel shows the link still works); its hostile act is triggered by the first echo request
 * and written to the stream BEFORE the echo reply, so when `ping` returns the client has
 * already taken all of it. What it did goes to <report.json> (rewritten after each step):
 *
 * gso-invalid     negotiates GSO (acks ours, gets its own acked), then sends GSO frames with
 *                 invalid virtio or IP headers, REPEAT of each kind (which of them get past
 *                 the client's engine to validateVnetFrame, and the reason it must give)
 * gso-flood       negotiates GSO, then floods 0x2a21 frames longer than the deframer's GSO
 *                 limit (10 + 65535 + 4), after two at the limits with a bad header
 * gso-asymmetric  asks for GSO itself (the client acks) but Configure-Rejects the client's
 *                 option, so GSO is NOT on; sends GSO frames before LCP is open, right after
 *                 LCP opened and after IPCP; counts the Protocol-Rejects of 0x2a21 it gets back
 * gso-valid       negotiates GSO, then opens a TCP connection to 10.77.0.2:<port> (plain SYN
 *                 and ACK), sends its data as 3 TCPv4 GSO super-packets, then FIN
 *
 *   node hostile-peer.mjs <gso-scenario> <report.json> [port]
 *
 * Bounded: exits after 25 s, when stdin closes, or after 50,000 flood frames.
 */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { PppEngine } from '../../dist/engine/index.js';
import { HdlcDeframer, HdlcFramer } from '../../dist/hdlc/index.js';

const scenario = process.argv[2] ?? 'oversize';
const reportPath = scenario.startsWith('gso-') ? (process.argv[3] ?? null) : null;
const tcpPort = Number(process.argv[4] ?? 0);
const GSO_SCENARIO = scenario.startsWith('gso-');
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

/** claim: its own address, the client's, the DNS server it hands out. */
const [LOCAL4, PEER4_TEXT, DNS4] =
  scenario === 'claim' ? process.argv.slice(3, 6) : ['10.77.0.1', '10.77.0.2', null];

const engine = new PppEngine(
  {
    random32,
    lcp: { restartMs: 1000 },
    ipcp: {
      local: LOCAL4,
      peer: PEER4_TEXT,
      acceptLocal: (a) => a === LOCAL4,
      acceptPeer: (a) => a === PEER4_TEXT,
      ...(DNS4 ? { dns: [DNS4] } : {}),
      maxFailure: 100,
    },
    ipv6cp: GSO_SCENARIO ? {} : false,
    gso: GSO_SCENARIO,
  },
  (version, packet) => onIp(version, packet),
  // The client sends what its kernel left with a partial checksum (TCP) as GSO frames too.
  (frame, version) => onIp(version, frame.subarray(10)),
);

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
    if (scenario === 'gso-asymmetric' && protocol === 0xc021 && info[0] === 1) {
      // The client's LCP Configure-Request: we Configure-Reject its GSO option ourselves.
      const vendor = lcpOptions(info).filter((o) => o[0] === 0);
      if (vendor.length > 0) {
        send(0xc021, ctl(4, info[1], Uint8Array.from(vendor.flat())));
        return;
      }
    }
    if (protocol === 0xc021 && info[0] === 8 && info[4] === 0x2a && info[5] === 0x21) {
      report.protRejGso++;
      saveReport();
    }
    reframe.writeFrame(protocol, info, true);
    engine.receive(reframe.take(), now());
  },
  { accm: 0, maxInfo: 65535 },
);

// ---- GSO scenarios: report ----------------------------------------------------------------------

const report = {
  scenario,
  /** gso-invalid / gso-flood: per kind the frames sent and the reason validateVnetFrame must give (null: the engine drops it first). */
  kinds: [],
  /** Frames that reach validateVnetFrame: each must be counted as bad-gso-frame. */
  expectBad: 0,
  /** Frames the client's engine drops before validation (too short, unknown IP version). */
  engineDrops: 0,
  /** gso-flood: 0x2a21 frames over the deframer's limit: each must be counted as too-long. */
  oversize: 0,
  /** gso-asymmetric: GSO frames sent before LCP, right after LCP, after IPCP. */
  probes: { 'before-lcp': 0, 'after-lcp': 0, 'after-ipcp': 0 },
  /** gso-asymmetric: Protocol-Rejects of 0x2a21 received from the client. */
  protRejGso: 0,
  /** gso-valid: the TCP data sent in GSO frames, and the connection's progress. */
  tcp: null,
  /** The hostile act ran (at the first echo request). */
  triggered: false,
};
function saveReport() {
  if (reportPath === null) return;
  writeFileSync(`${reportPath}.tmp`, JSON.stringify(report));
  renameSync(`${reportPath}.tmp`, reportPath);
}

// ---- GSO scenarios: packets ---------------------------------------------------------------------

const PEER4 = [10, 77, 0, 1];
const CLIENT4 = [10, 77, 0, 2];
const PEER6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const CLIENT6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const GSO_PROTOCOL = 0x2a21;

/** Ones'-complement sum (not folded) of big-endian 16-bit words of b[from, to). */
function sum16(b, from, to, sum = 0) {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < to) sum += b[i] << 8;
  return sum;
}
function fold(sum) {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
function put16(b, at, v) {
  b[at] = (v >> 8) & 255;
  b[at + 1] = v & 255;
}
function put32(b, at, v) {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}

/** IPv4 header (20 octets, DF, TTL 64, valid checksum) followed by l4Len zero octets. */
function ipv4(proto, l4Len) {
  const p = new Uint8Array(20 + l4Len);
  p.set([0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto]);
  put16(p, 2, p.length);
  p.set(PEER4, 12);
  p.set(CLIENT4, 16);
  put16(p, 10, ~fold(sum16(p, 0, 20)) & 0xffff);
  return p;
}
/** IPv6 header (fe80::1 → fe80::2) followed by l4Len zero octets. */
function ipv6(next, l4Len) {
  const p = new Uint8Array(40 + l4Len);
  p[0] = 0x60;
  put16(p, 4, l4Len);
  p[6] = next;
  p[7] = 64;
  p.set(PEER6, 8);
  p.set(CLIENT6, 24);
  return p;
}
/** Folded pseudo-header sum: what a sender with checksum offload leaves in the checksum field. */
function pseudoSum(p, l4Len, proto) {
  const s = p[0] >> 4 === 6 ? sum16(p, 8, 40) : sum16(p, 12, 20);
  return fold(s + proto + (l4Len >>> 16) + (l4Len & 0xffff));
}
function tcpHeader(p, at, o) {
  put16(p, at, o.sport);
  put16(p, at + 2, o.dport);
  put32(p, at + 4, o.seq >>> 0);
  put32(p, at + 8, o.ack >>> 0);
  p[at + 12] = 0x50;
  p[at + 13] = o.flags;
  put16(p, at + 14, 65535);
}
/** virtio_net_hdr (little-endian, as the TUN takes it) + packet. */
function vnetFrame(h, packet) {
  const f = new Uint8Array(10 + packet.length);
  const le = (at, v) => {
    f[at] = v & 255;
    f[at + 1] = (v >> 8) & 255;
  };
  f[0] = h.flags;
  f[1] = h.gsoType;
  le(2, h.hdrLen);
  le(4, h.gsoSize);
  le(6, h.csumStart);
  le(8, h.csumOffset);
  f.set(packet, 10);
  return f;
}
/** A well-formed TCP GSO frame (header fields overridable), `payloadLen` octets of data. */
function goodTcpFrame(v, payloadLen, over = {}) {
  const ipHl = v === 4 ? 20 : 40;
  const l4 = 20 + payloadLen;
  const p = v === 4 ? ipv4(6, l4) : ipv6(6, l4);
  tcpHeader(p, ipHl, { sport: 40000, dport: 5201, seq: 1, ack: 1, flags: 0x18 });
  for (let i = 0; i < payloadLen; i++) p[ipHl + 20 + i] = (i * 31) & 255;
  put16(p, ipHl + 16, pseudoSum(p, l4, 6));
  const h = {
    flags: 1,
    gsoType: v === 4 ? 1 : 4,
    hdrLen: ipHl + 20,
    gsoSize: 1200,
    csumStart: ipHl,
    csumOffset: 16,
  };
  return vnetFrame({ ...h, ...over }, p);
}
/** `f` after `edit` changed its IP packet (the bytes after the virtio header) in place. */
function edited(f, edit) {
  edit(f.subarray(10));
  return f;
}
/** IPv4 echo reply to an echo request (addresses swapped, checksums recomputed). */
function echoReply(req) {
  const ihl = (req[0] & 15) * 4;
  const total = (req[2] << 8) | req[3];
  const p = Uint8Array.from(req.subarray(0, total));
  p.set(req.subarray(16, 20), 12);
  p.set(req.subarray(12, 16), 16);
  p[8] = 64;
  put16(p, 10, 0);
  put16(p, 10, ~fold(sum16(p, 0, ihl)) & 0xffff);
  p[ihl] = 0;
  put16(p, ihl + 2, 0);
  put16(p, ihl + 2, ~fold(sum16(p, ihl, total)) & 0xffff);
  return p;
}
/** The options of an LCP Configure-Request as arrays of octets (stops at a malformed one). */
function lcpOptions(info) {
  const len = Math.min(info.length, (info[2] << 8) | info[3]);
  const opts = [];
  for (let i = 4; i + 2 <= len; ) {
    const l = info[i + 1];
    if (l < 2 || i + l > len) break;
    opts.push(Array.from(info.subarray(i, i + l)));
    i += l;
  }
  return opts;
}

// ---- GSO scenarios: the acts --------------------------------------------------------------------

/** Each invalid kind is sent this many times. */
const REPEAT = 5;

/** gso-invalid: [kind, reason validateVnetFrame gives (null: the client's engine drops it), frame]. */
function invalidFrames() {
  const v4 = (over) => goodTcpFrame(4, 3000, over);
  const short = (n, first) => {
    const f = new Uint8Array(n);
    if (n > 10) f[10] = first;
    return f;
  };
  return [
    ['unknown-gso-type', 'unsupported gso_type 0x7f', v4({ gsoType: 0x7f })],
    ['gso-udp', 'unsupported gso_type 0x3', v4({ gsoType: 3 })],
    ['gso-udp-l4', 'unsupported gso_type 0x5', v4({ gsoType: 5 })],
    ['ecn-without-gso', 'ECN bit without a GSO type', v4({ gsoType: 0x80 })],
    ['unknown-flags', 'unknown flags 0x85', v4({ flags: 0x85 })],
    ['gso-without-needs-csum', 'GSO frame without NEEDS_CSUM', v4({ flags: 2 })],
    [
      'gso-csum-beyond-packet',
      'checksum at 20+60000 beyond packet length 3040',
      v4({ csumOffset: 60000 }),
    ],
    [
      'plain-csum-beyond-packet',
      'checksum at 3030+16 beyond packet length 3040',
      v4({ gsoType: 0, gsoSize: 0, csumStart: 3030 }),
    ],
    ['csum-start-in-ip-header', 'csum_start 4 inside the IP header', v4({ csumStart: 4 })],
    ['csum-not-tcp-field', 'GSO checksum at 20+6 is not the TCP checksum', v4({ csumOffset: 6 })],
    ['gso-size-0', 'gso_size 0 < 64', v4({ gsoSize: 0 })],
    ['gso-size-63', 'gso_size 63 < 64', v4({ gsoSize: 63 })],
    ['plain-gso-size-7', 'gso_size 7 without a GSO type', v4({ gsoType: 0, gsoSize: 7 })],
    ['hdr-len-65535', 'hdr_len 65535 > packet length 3040', v4({ hdrLen: 65535 })],
    ['tcpv6-on-ipv4', 'gso_type TCPV6 on an IPv4 packet', v4({ gsoType: 4 })],
    ['tcpv4-on-ipv6', 'gso_type TCPV4 on an IPv6 packet', goodTcpFrame(6, 3000, { gsoType: 1 })],
    [
      'udp-in-tcpv4',
      'GSO frame carries protocol 17, not TCP',
      edited(v4(), (p) => {
        p[9] = 17;
      }),
    ],
    [
      'ipv4-total-length-short',
      'IPv4 total length 3039 ≠ packet length 3040',
      edited(v4(), (p) => put16(p, 2, 3039)),
    ],
    [
      'ipv4-total-length-long',
      'IPv4 total length 3140 ≠ packet length 3040',
      edited(v4(), (p) => put16(p, 2, 3140)),
    ],
    [
      'ipv6-payload-length',
      'IPv6 length 3068 ≠ packet length 3060',
      edited(goodTcpFrame(6, 3000), (p) => put16(p, 4, 3028)),
    ],
    [
      'ipv4-ihl-16',
      'bad IPv4 header length 16',
      edited(v4(), (p) => {
        p[0] = 0x44;
      }),
    ],
    [
      'ip-header-only',
      'checksum at 20+16 beyond packet length 20',
      vnetFrame(
        { flags: 1, gsoType: 1, hdrLen: 20, gsoSize: 1200, csumStart: 20, csumOffset: 16 },
        ipv4(6, 0),
      ),
    ],
    [
      'tcp-data-offset-60',
      'GSO frame with a truncated TCP header',
      edited(goodTcpFrame(4, 10), (p) => {
        p[32] = 0xf0;
      }),
    ],
    ['empty', null, short(0, 0)],
    ['9-octets', null, short(9, 0)],
    ['header-only', null, short(10, 0)],
    ['10+19-ipv4', null, short(29, 0x45)],
    ['10+39-ipv6', null, short(49, 0x60)],
    [
      'ip-version-5',
      null,
      edited(v4(), (p) => {
        p[0] = 0x55;
      }),
    ],
    [
      'ip-version-0',
      null,
      edited(v4(), (p) => {
        p[0] = 0x05;
      }),
    ],
  ];
}

function actInvalid() {
  for (const [kind, reason, frame] of invalidFrames()) {
    for (let i = 0; i < REPEAT; i++) {
      out.writeFrame(GSO_PROTOCOL, frame, false);
      write(out.take());
    }
    report.kinds.push({ kind, reason, frames: REPEAT });
    if (reason === null) report.engineDrops += REPEAT;
    else report.expectBad += REPEAT;
  }
}

/** 0x2a21 frames over the deframer's limit (10 + 65535 + 4), and 5 of 1 MiB. */
const FLOOD = 300;
const HUGE = 5;

function actFlood() {
  // At the limits: taken by the deframer; the first refused by validateVnetFrame (logged
  // with its reason), the second by the engine (longer than the agreed 65535: no log line).
  const atMax = goodTcpFrame(4, 65535 - 40, { flags: 0x80 });
  const atLimit = new Uint8Array(10 + 65535 + 4);
  atLimit.set(goodTcpFrame(4, 65535 - 40));
  for (const [kind, reason, frame] of [
    ['10+65535', 'unknown flags 0x80', atMax],
    ['10+65539', null, atLimit],
  ]) {
    out.writeFrame(GSO_PROTOCOL, frame, false);
    write(out.take());
    report.kinds.push({ kind, reason, frames: 1 });
    report.expectBad++;
  }
  const big = new Uint8Array(1 << 20).fill(0x45);
  for (let i = 0; i < FLOOD + HUGE; i++) {
    const len = i < FLOOD ? 10 + 65535 + 5 + ((i * 211) % 15000) : big.length;
    out.writeFrame(GSO_PROTOCOL, big.subarray(0, len), false);
    write(out.take());
    report.oversize++;
  }
}

/**
 * gso-asymmetric: well-formed GSO frames the client never agreed to take, per phase PROBES
 * within its MRU and BIG_PROBES over it (the deframer keeps its MRU limit without GSO).
 */
const PROBES = 5;
const BIG_PROBES = 2;

function sendGsoProbes(phase) {
  for (let i = 0; i < PROBES; i++) out.writeFrame(GSO_PROTOCOL, goodTcpFrame(4, 1000), false);
  for (let i = 0; i < BIG_PROBES; i++) out.writeFrame(GSO_PROTOCOL, goodTcpFrame(4, 2000), false);
  write(out.take());
  report.probes[phase] += PROBES;
  report.oversize += BIG_PROBES;
  saveReport();
}

/** gso-valid: a TCP connection to the client; the data in TCPv4 GSO super-packets. */
const TCP_CHUNKS = 3;
const TCP_CHUNK = 16_000;
const TCP_MSS = 1200;
const tcp = {
  sport: 40000 + (random32() % 20000),
  iss: random32(),
  irs: -1,
  syns: 0,
  timer: null,
};

function tcpPlain(flags, seq, ack) {
  const p = ipv4(6, 20);
  tcpHeader(p, 20, { sport: tcp.sport, dport: tcpPort, seq, ack, flags });
  put16(p, 36, ~fold(sum16(p, 20, 40, pseudoSum(p, 20, 6))) & 0xffff);
  return p;
}

function tcpGso(seq, ack, payload) {
  const l4 = 20 + payload.length;
  const p = ipv4(6, l4);
  tcpHeader(p, 20, { sport: tcp.sport, dport: tcpPort, seq, ack, flags: 0x18 });
  p.set(payload, 40);
  put16(p, 36, pseudoSum(p, l4, 6));
  return vnetFrame(
    { flags: 1, gsoType: 1, hdrLen: 40, gsoSize: TCP_MSS, csumStart: 20, csumOffset: 16 },
    p,
  );
}

function sendSyn() {
  if (tcp.irs >= 0 || tcp.syns >= 3) return;
  tcp.syns++;
  out.writeFrame(0x21, tcpPlain(0x02, tcp.iss, 0), false);
  write(out.take());
  tcp.timer = setTimeout(sendSyn, 1000);
}

function onTcp(p, ihl) {
  const sport = (p[ihl] << 8) | p[ihl + 1];
  const dport = (p[ihl + 2] << 8) | p[ihl + 3];
  if (sport !== tcpPort || dport !== tcp.sport) return;
  const seq = ((p[ihl + 4] << 24) | (p[ihl + 5] << 16) | (p[ihl + 6] << 8) | p[ihl + 7]) >>> 0;
  const flags = p[ihl + 13];
  const dataLen = ((p[2] << 8) | p[3]) - ihl - (p[ihl + 12] >> 4) * 4;
  if ((flags & 0x12) === 0x12 && tcp.irs < 0) {
    // SYN-ACK: ACK it, then the data as GSO super-packets, then FIN (all on one ordered stream).
    clearTimeout(tcp.timer);
    tcp.irs = seq;
    const iss1 = (tcp.iss + 1) >>> 0;
    const ack = (seq + 1) >>> 0;
    write(engine.takeOutput());
    out.writeFrame(0x21, tcpPlain(0x10, iss1, ack), false);
    const h = createHash('sha256');
    let x = tcp.iss || 1;
    for (let c = 0; c < TCP_CHUNKS; c++) {
      const data = new Uint8Array(TCP_CHUNK);
      for (let i = 0; i < data.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        data[i] = x & 255;
      }
      h.update(data);
      out.writeFrame(GSO_PROTOCOL, tcpGso((iss1 + c * TCP_CHUNK) >>> 0, ack, data), false);
    }
    out.writeFrame(0x21, tcpPlain(0x11, (iss1 + TCP_CHUNKS * TCP_CHUNK) >>> 0, ack), false);
    write(out.take());
    report.tcp = {
      bytes: TCP_CHUNKS * TCP_CHUNK,
      sha256: h.digest('hex'),
      superPackets: TCP_CHUNKS,
      gsoSize: TCP_MSS,
      finAcked: false,
    };
    saveReport();
  } else if (flags & 0x01 && tcp.irs >= 0) {
    // The client's FIN: acknowledge it.
    const fin = (tcp.iss + 1 + TCP_CHUNKS * TCP_CHUNK + 1) >>> 0;
    out.writeFrame(0x21, tcpPlain(0x10, fin, (seq + dataLen + 1) >>> 0), false);
    write(out.take());
    report.tcp.finAcked = true;
    saveReport();
  }
}

/** The hostile act of a GSO scenario, run at the first echo request, before its reply. */
function act() {
  if (scenario === 'gso-invalid') actInvalid();
  else if (scenario === 'gso-flood') actFlood();
  else if (scenario === 'gso-asymmetric') sendGsoProbes('after-ipcp');
  else if (scenario === 'gso-valid') sendSyn();
}

let ipv6Up = false;
let triggered = false;

/** IP packets from the client: echo requests to us are answered (after the act, the first time). */
function onIp(version, packet) {
  if (version !== 4 || packet.length < 28) return;
  const ihl = (packet[0] & 15) * 4;
  if (packet[9] === 1 && packet[ihl] === 8) {
    if (!triggered && GSO_SCENARIO) {
      // IPv6 frames must find the client's IPv6CP open: no answer until ours is (ping retries).
      if (scenario === 'gso-invalid' && !ipv6Up) return;
      triggered = true;
      write(engine.takeOutput());
      act();
      report.triggered = true;
      saveReport();
    }
    engine.sendIp(echoReply(packet), now());
    return;
  }
  if (packet[9] === 6 && scenario === 'gso-valid') onTcp(packet, ihl);
}

/** forge-text: what a hostile far end would like a terminal to show. */
const FORGED = '\r\x1b[2K tunnel up: forged';
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
      if (scenario === 'forge-text') {
        write(engine.takeOutput());
        process.stderr.write(`${FORGED}\n\u009b2K tunnel up: forged too\n`);
        send(0xc021, ctl(5, 77, new TextEncoder().encode(FORGED)));
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
      if (scenario === 'gso-asymmetric') {
        write(engine.takeOutput());
        sendGsoProbes('after-lcp');
      }
    }
    if (e.type === 'ipv6-up') ipv6Up = true;
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
  if (scenario === 'gso-asymmetric') sendGsoProbes('before-lcp'); // ahead of our first ConfReq
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
saveReport();
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(0), 25_000);
