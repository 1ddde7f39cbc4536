/**
 * Fuzz targets for the sans-IO codecs: the HDLC deframer (chunked
 * differentially), the control-packet codec and every frame printer, the
 * LCP/IPCP/IPv6CP/CCP option codecs, printers and policies, and the PAP/CHAP
 * machines in both roles with their printers.
 */
import {
  type AuthPacket,
  type AuthStep,
  ChapClient,
  ChapServer,
  decodeAuthPacket,
  formatChap,
  formatPap,
  PapClient,
  PapServer,
} from '../../src/auth/index.js';
import { formatFrame } from '../../src/engine/format-frame.js';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { LCP_OPTIONS, LCP_PRINTER, LcpPolicy } from '../../src/lcp/index.js';
import {
  IPCP_OPTIONS,
  IPCP_PRINTER,
  IPV6CP_OPTIONS,
  IPV6CP_PRINTER,
  IpcpPolicy,
  Ipv6cpPolicy,
} from '../../src/ncp/index.js';
import { CCP_OPTIONS, CCP_PRINTER } from '../../src/ppp/ccp.js';
import { formatControlBody, type PacketPrinter } from '../../src/ppp/format.js';
import { formatOption, type OptionTable, parseOptions } from '../../src/ppp/options.js';
import { emitControlPacket, parseControlPacket } from '../../src/ppp/packet.js';
import { applyNak, applyReject, type FsmPolicy, judgePeerOption } from '../../src/ppp/policy.js';
import { Protocol } from '../../src/ppp/protocols.js';
import { loadCorpus } from './corpus.js';
import { mutate } from './mutate.js';
import { authArb, controlArb, optionsArb, pool } from './pools.js';
import { Rng } from './rng.js';
import {
  assertPrintable,
  type FuzzInput,
  type FuzzRunner,
  type FuzzTarget,
  InvariantError,
} from './types.js';

const PROTOCOLS = [
  Protocol.LCP,
  Protocol.IPCP,
  Protocol.IPV6CP,
  Protocol.CCP,
  Protocol.PAP,
  Protocol.CHAP,
  0x8023,
  0xc025,
  0xc227,
  Protocol.IPv4,
  Protocol.IPv6,
  0x00fd,
  0x0001,
];

function bytesOf(i: FuzzInput): Uint8Array {
  return typeof i === 'string' ? new TextEncoder().encode(i) : i;
}

function allCorpusInfos(): Uint8Array[] {
  return loadCorpus().frames.map((f) => f.info);
}

/** FNV-1a over a byte view, folded into a running hash. */
function fnv(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 16777619);
  return h >>> 0;
}

// ---- HDLC deframer ---------------------------------------------------------------------------

class DeframerRunner implements FuzzRunner {
  private readonly whole: HdlcDeframer;
  private readonly chunked: HdlcDeframer;
  private hashA = 2166136261;
  private hashB = 2166136261;
  private countA = 0;
  private countB = 0;
  private maxInfo = 1504;
  private readonly framer = new HdlcFramer({ maxPending: 1 << 20 });
  private readonly pool: Uint8Array[];
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed ^ 0xdeadbeef);
    const check = (info: Uint8Array) => {
      if (info.length > this.maxInfo)
        throw new InvariantError(`deframer delivered ${info.length} > maxInfo ${this.maxInfo}`);
    };
    this.whole = new HdlcDeframer(
      (p, info) => {
        check(info);
        this.countA++;
        this.hashA = fnv(Math.imul(this.hashA ^ p, 16777619), info);
      },
      { accm: 0, maxInfo: this.maxInfo },
    );
    this.chunked = new HdlcDeframer(
      (p, info) => {
        this.countB++;
        this.hashB = fnv(Math.imul(this.hashB ^ p, 16777619), info);
      },
      { accm: 0, maxInfo: this.maxInfo },
    );
    this.pool = pool(controlArb, 3000, seed);
  }

  next(rng: Rng): FuzzInput {
    const c = loadCorpus();
    const r = rng.int(10);
    if (r < 3) {
      const b = rng.bytes(rng.len(600));
      for (let k = rng.int(6); k > 0 && b.length > 0; k--)
        b[rng.int(b.length)] = rng.chance(0.5) ? 0x7e : 0x7d;
      return b;
    }
    if (r < 7) {
      const s = rng.pick(c.streams);
      const start = rng.int(s.length);
      const slice = s.subarray(start, start + rng.len(600));
      return rng.chance(0.7) ? mutate(rng, slice, rng.pick(c.streams)) : slice;
    }
    // Well-framed (good FCS) random or structured info, with random framing options, often mutated.
    this.framer.configure({
      accm: rng.chance(0.5) ? 0 : rng.u32(),
      acfc: rng.chance(0.5),
      pfc: rng.chance(0.5),
    });
    for (let k = rng.range(1, 3); k > 0; k--) {
      const info = rng.chance(0.5)
        ? rng.pick(this.pool)
        : rng.bytes(rng.chance(0.05) ? rng.range(1400, 5000) : rng.len(300));
      this.framer.writeFrame(
        rng.chance(0.8) ? rng.pick(PROTOCOLS) : (rng.u32() & 0xfeff) | 1,
        info,
        rng.chance(0.3),
      );
    }
    const out = this.framer.take() ?? new Uint8Array(0);
    return rng.chance(0.4) ? mutate(rng, out, rng.pick(c.streams)) : out;
  }

  run(input: FuzzInput): void {
    const b = bytesOf(input);
    const rng = this.rng;
    if (rng.chance(0.002)) {
      // Reconfigure both the same way at the same point of the stream.
      this.maxInfo = rng.pick([0, 1, 4, 64, 296, 1500, 1504, 4000, 65535]);
      const accm = rng.pick([0, 0xffffffff, 0x000a0000, rng.u32()]);
      this.whole.configure({ maxInfo: this.maxInfo, accm });
      this.chunked.configure({ maxInfo: this.maxInfo, accm });
    }
    this.whole.push(b);
    let off = 0;
    for (let guard = 0; off < b.length && guard < 10_000; guard++) {
      const n = rng.chance(0.3) ? 1 : rng.range(1, 64);
      this.chunked.push(b.subarray(off, off + n));
      off += n;
    }
    if (this.countA !== this.countB || this.hashA !== this.hashB) {
      throw new InvariantError(
        `chunked deframing differs: ${this.countB} frames vs ${this.countA} in one push`,
      );
    }
    const a = this.whole.stats;
    const s = this.chunked.stats;
    if (
      a.badFcs !== s.badFcs ||
      a.tooLong !== s.tooLong ||
      a.tooShort !== s.tooShort ||
      a.aborted !== s.aborted ||
      a.badHeader !== s.badHeader
    ) {
      throw new InvariantError(
        `chunked deframing counts differ: ${JSON.stringify(s)} vs ${JSON.stringify(a)}`,
      );
    }
  }
}

// ---- control packets and frame printers --------------------------------------------------------

class ControlRunner implements FuzzRunner {
  private readonly pool: Uint8Array[];
  private readonly infos = allCorpusInfos();

  constructor(seed: number) {
    this.pool = pool(controlArb, 4000, seed);
  }

  next(rng: Rng): FuzzInput {
    const r = rng.int(10);
    if (r < 2) return rng.bytes(rng.len(300));
    if (r < 5)
      return rng.chance(0.5)
        ? rng.pick(this.pool)
        : mutate(rng, rng.pick(this.pool), rng.pick(this.infos));
    return mutate(rng, rng.pick(this.infos), rng.pick(this.infos));
  }

  run(input: FuzzInput): void {
    const info = bytesOf(input);
    const r = parseControlPacket(info);
    if (r.ok) {
      const p = r.packet;
      const len = (info[2] << 8) | info[3];
      if (p.data.length !== len - 4)
        throw new InvariantError('control packet data does not match its length field');
      const again = parseControlPacket(emitControlPacket(p.code, p.id, p.data));
      if (
        !again.ok ||
        again.packet.code !== p.code ||
        again.packet.id !== p.id ||
        again.packet.data.length !== p.data.length
      ) {
        throw new InvariantError('control packet does not round-trip');
      }
    }
    decodeAuthPacket(info);
    for (const proto of PROTOCOLS) {
      const s = formatFrame(proto, info);
      if (s !== null) assertPrintable(s, `formatFrame(0x${proto.toString(16)})`);
    }
  }
}

// ---- option codecs, printers and policies ----------------------------------------------------

type PolicyFactory = (rng: Rng) => FsmPolicy;

class OptionsRunner implements FuzzRunner {
  private readonly pool: Uint8Array[];
  private readonly seeds: Uint8Array[];
  private policy: FsmPolicy;
  private uses = 0;
  private readonly rng: Rng;

  constructor(
    seed: number,
    private readonly name: string,
    protocol: number,
    private readonly table: OptionTable,
    private readonly printer: PacketPrinter,
    private readonly makePolicy: PolicyFactory | null,
  ) {
    this.rng = new Rng(seed ^ 0x1234567);
    this.pool = pool(optionsArb, 4000, seed);
    const frames = loadCorpus().byProtocol.get(protocol) ?? [];
    // The options field of every corpus packet of this protocol (after the 4-byte header).
    this.seeds = frames.filter((f) => f.length >= 4).map((f) => f.subarray(4));
    if (this.seeds.length === 0) this.seeds.push(new Uint8Array(0));
    this.policy = this.fresh();
  }

  private fresh(): FsmPolicy {
    return this.makePolicy !== null ? this.makePolicy(this.rng) : (null as unknown as FsmPolicy);
  }

  next(rng: Rng): FuzzInput {
    const r = rng.int(10);
    if (r < 2) return rng.bytes(rng.len(260));
    if (r < 5)
      return rng.chance(0.5)
        ? rng.pick(this.pool)
        : mutate(rng, rng.pick(this.pool), rng.pick(this.seeds), 1024);
    return mutate(rng, rng.pick(this.seeds), rng.pick(this.pool), 1024);
  }

  run(input: FuzzInput): void {
    const field = bytesOf(input);
    const opts = parseOptions(field);
    if (opts !== null) {
      for (const o of opts) {
        const codec = this.table.get(o.type);
        if (codec !== undefined) {
          const v = codec.parse(o.data);
          if (v !== null) {
            const back = codec.parse(codec.emit(v));
            if (back === null || JSON.stringify(back, hexer) !== JSON.stringify(v, hexer)) {
              throw new InvariantError(
                `${this.name} option ${o.type} does not round-trip: ${JSON.stringify(v, hexer)}`,
              );
            }
          }
        }
        assertPrintable(formatOption(this.table, o.type, o.data), `${this.name} formatOption`);
      }
    }
    for (let code = 1; code <= 4; code++) {
      assertPrintable(
        formatControlBody(this.printer, { code, id: 1, data: field }),
        `${this.name} printer`,
      );
    }
    if (this.makePolicy === null || opts === null) return;
    if (++this.uses > 500) {
      this.policy = this.fresh();
      this.uses = 0;
    }
    const p = this.policy;
    p.beginPeerRequest();
    for (const o of opts) judgePeerOption(p, { type: o.type, data: o.data });
    p.missingOptions?.(this.rng.chance(0.5));
    switch (this.rng.int(4)) {
      case 0:
        applyNak(p, opts);
        break;
      case 1:
        applyReject(p, opts);
        break;
      case 2:
        p.resetNegotiation();
        break;
      default:
        p.onAck();
    }
    p.ownOptions();
    p.takeFatal?.();
    const hint = p.failureHint?.() ?? null;
    if (hint !== null) assertPrintable(hint, `${this.name} failureHint`);
  }
}

function hexer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? Array.from(v) : v;
}

// ---- PAP / CHAP ---------------------------------------------------------------------------------

class AuthRunner implements FuzzRunner {
  private readonly pool: Uint8Array[];
  private readonly seeds: Uint8Array[];
  private client: PapClient | ChapClient;
  private server: PapServer | ChapServer;
  private now = 0;
  private uses = 0;
  private readonly rng: Rng;

  constructor(
    seed: number,
    private readonly kind: 'pap' | 'chap',
  ) {
    this.rng = new Rng(seed ^ 0x7777);
    this.pool = pool(authArb, 4000, seed);
    this.seeds = [
      ...(loadCorpus().byProtocol.get(kind === 'pap' ? Protocol.PAP : Protocol.CHAP) ?? []),
    ];
    if (this.seeds.length === 0) this.seeds.push(this.pool[0]);
    [this.client, this.server] = this.fresh();
  }

  private fresh(): [PapClient | ChapClient, PapServer | ChapServer] {
    this.now += 100_000;
    const rng = this.rng;
    const pair: [PapClient | ChapClient, PapServer | ChapServer] =
      this.kind === 'pap'
        ? [
            new PapClient({ user: 'alice', password: 's3cret' }),
            new PapServer({ verify: (u, p) => u === 'alice' && p === 's3cret' }),
          ]
        : [
            new ChapClient({ name: 'alice', secret: 's3cret' }),
            new ChapServer({
              name: 'gw',
              secretFor: (n) => (n === 'alice' ? 's3cret' : null),
              random32: () => rng.u32(),
              rechallengeMs: 20_000,
            }),
          ];
    this.step(pair[0].start(this.now), 'client');
    this.step(pair[1].start(this.now), 'server');
    return pair;
  }

  private step(s: AuthStep, role: 'client' | 'server'): void {
    for (const p of s.send) this.print(p);
    if (s.result !== undefined) {
      assertPrintable(s.result.message, `${this.kind} ${role} result message`);
      if (this.kind === 'chap' && role === 'server' && s.result.ok) {
        throw new InvariantError('CHAP server accepted a response computed without the secret');
      }
    }
  }

  private print(p: AuthPacket): void {
    assertPrintable(this.kind === 'pap' ? formatPap(p) : formatChap(p), `format${this.kind}`);
  }

  next(rng: Rng): FuzzInput {
    if (++this.uses > 300) {
      [this.client, this.server] = this.fresh();
      this.uses = 0;
    }
    const r = rng.int(10);
    if (r < 2) return rng.bytes(rng.len(120));
    if (r < 6)
      return rng.chance(0.6)
        ? rng.pick(this.pool)
        : mutate(rng, rng.pick(this.pool), rng.pick(this.seeds), 600);
    return mutate(rng, rng.pick(this.seeds), rng.pick(this.pool), 600);
  }

  run(input: FuzzInput): void {
    const b = bytesOf(input);
    // Well-formed packets go through the decoder; others as a raw header split (harsher than the engine).
    const pkt: AuthPacket = decodeAuthPacket(b) ?? {
      code: b[0] ?? 0,
      id: b[1] ?? 0,
      data: b.subarray(Math.min(4, b.length)),
    };
    this.print(pkt);
    this.step(this.client.receive(pkt, this.now), 'client');
    this.step(this.server.receive(pkt, this.now), 'server');
    if (this.rng.chance(0.1)) {
      this.now += this.rng.range(0, 25_000);
      this.step(this.client.handleTimeout(this.now), 'client');
      this.step(this.server.handleTimeout(this.now), 'server');
      for (const d of [this.client.nextDeadline(), this.server.nextDeadline()]) {
        if (d !== null && d <= this.now)
          throw new InvariantError(`${this.kind} deadline ${d} not after now ${this.now}`);
      }
    }
  }
}

export const CODEC_TARGETS: FuzzTarget[] = [
  {
    name: 'hdlc-deframer',
    what: 'raw line bytes, chunked vs whole',
    create: (s) => new DeframerRunner(s),
  },
  {
    name: 'control-packet',
    what: 'parse/emit + formatFrame, all protocols',
    create: (s) => new ControlRunner(s),
  },
  {
    name: 'lcp-options',
    what: 'TLVs: codecs, printer, LcpPolicy (gso on/off)',
    create: (s) =>
      new OptionsRunner(
        s,
        'LCP',
        Protocol.LCP,
        LCP_OPTIONS,
        LCP_PRINTER,
        (rng) =>
          new LcpPolicy({
            random32: () => rng.u32(),
            requireAuth: rng.pick(['pap', 'chap', null] as const),
            canPap: true,
            canChap: rng.chance(0.5),
            // The Vendor-Specific GSO option (RFC 2153, ours: 02:54:56 kind 1) on and off.
            gso: rng.chance(0.5),
            gsoMaxPacket: rng.pick([65535, 1500, rng.range(1, 65535)]),
          }),
      ),
  },
  {
    name: 'ipcp-options',
    what: 'TLVs: codecs, printer, IpcpPolicy',
    create: (s) =>
      new OptionsRunner(s, 'IPCP', Protocol.IPCP, IPCP_OPTIONS, IPCP_PRINTER, (rng) =>
        rng.chance(0.5)
          ? new IpcpPolicy({
              local: 0,
              peer: 0,
              acceptLocal: () => true,
              acceptPeer: () => true,
              requestDns: true,
              dns: [],
            })
          : new IpcpPolicy({
              local: 0x0a4d0001,
              peer: 0x0a4d0002,
              acceptLocal: () => false,
              acceptPeer: (a) => a === '10.77.0.2',
              requestDns: false,
              dns: [0x0a010035],
            }),
      ),
  },
  {
    name: 'ipv6cp-options',
    what: 'TLVs: codecs, printer, Ipv6cpPolicy',
    create: (s) =>
      new OptionsRunner(
        s,
        'IPV6CP',
        Protocol.IPV6CP,
        IPV6CP_OPTIONS,
        IPV6CP_PRINTER,
        (rng) =>
          new Ipv6cpPolicy({
            interfaceId: null,
            peerInterfaceId: rng.chance(0.3) ? rng.bytes(8) : null,
            random32: () => rng.u32(),
          }),
      ),
  },
  {
    name: 'ccp-options',
    what: 'TLVs: codecs, printer (CCP is rejected)',
    create: (s) => new OptionsRunner(s, 'CCP', Protocol.CCP, CCP_OPTIONS, CCP_PRINTER, null),
  },
  {
    name: 'pap',
    what: 'PapClient + PapServer + formatPap',
    create: (s) => new AuthRunner(s, 'pap'),
  },
  {
    name: 'chap',
    what: 'ChapClient + ChapServer + formatChap',
    create: (s) => new AuthRunner(s, 'chap'),
  },
];
