/**
 * Fuzz targets for the whole PppEngine.receive path (client and server
 * configurations, in four states each) and for IP packet handling between two
 * engines that are up. Inputs are mostly well-framed (good FCS) so they reach
 * the automata: replies built from the engine's own last Configure-Request
 * (Ack / Nak with other values / Reject of a subset), fast-check control and
 * auth packets, mutated pppd frames, hostile specials (Terminate, Code- and
 * Protocol-Reject, echo floods, forged CHAP results), IP packets and noise.
 */
import type { EngineEvent } from '../../src/engine/index.js';
import { HdlcDeframer, HdlcFramer } from '../../src/hdlc/index.js';
import { parseOptions } from '../../src/ppp/options.js';
import { emitControlPacket } from '../../src/ppp/packet.js';
import { Protocol } from '../../src/ppp/protocols.js';
import { loadCorpus } from './corpus.js';
import { type BuiltEngine, buildEngine, type EngineState, type Role } from './engines.js';
import { mutate } from './mutate.js';
import { authArb, controlArb, ipArb, pool } from './pools.js';
import { Rng } from './rng.js';
import {
  assertPrintable,
  type FuzzInput,
  type FuzzRunner,
  type FuzzTarget,
  InvariantError,
} from './types.js';

const CONTROL = [Protocol.LCP, Protocol.IPCP, Protocol.IPV6CP] as const;
const ANY_PROTOCOLS = [
  Protocol.LCP,
  Protocol.IPCP,
  Protocol.IPV6CP,
  Protocol.CCP,
  Protocol.PAP,
  Protocol.CHAP,
  Protocol.IPv4,
  Protocol.IPv6,
  0x002d,
  0x00fd,
  0xc025,
  0xc227,
  0x8023,
];

/** What our engine last said, learned by deframing its output. */
class Tracker {
  readonly lastReq = new Map<number, { id: number; data: Uint8Array }>();
  echoId = -1;
  chapId = -1;
  papId = -1;
  private readonly deframer = new HdlcDeframer((p, i) => this.onFrame(p, i), {
    accm: 0,
    maxInfo: 65535,
  });

  feed(b: Uint8Array): void {
    this.deframer.push(b);
  }

  private onFrame(p: number, info: Uint8Array): void {
    if (info.length < 4) return;
    const code = info[0];
    if (code === 1 && (p === Protocol.LCP || p === Protocol.IPCP || p === Protocol.IPV6CP)) {
      this.lastReq.set(p, { id: info[1], data: Uint8Array.from(info.subarray(4)) });
    } else if (p === Protocol.LCP && code === 9) this.echoId = info[1];
    else if (p === Protocol.CHAP && code === 1) this.chapId = info[1];
    else if (p === Protocol.PAP && code === 1) this.papId = info[1];
  }
}

/** Frames the generator builds, before HDLC. */
type Frame = [protocol: number, info: Uint8Array];

class FrameGenerator {
  private readonly control: Uint8Array[];
  private readonly auth: Uint8Array[];
  private readonly ip: Uint8Array[];
  private readonly framer = new HdlcFramer({ maxPending: 1 << 20 });

  constructor(
    seed: number,
    private readonly ncpFocus: boolean,
  ) {
    this.control = pool(controlArb, 3000, seed);
    this.auth = pool(authArb, 2000, seed + 1);
    this.ip = pool(ipArb, 1000, seed + 2);
  }

  /** One frame aimed at an engine whose last output `t` describes. */
  frame(rng: Rng, t: Tracker): Frame {
    const c = loadCorpus();
    const r = rng.int(100);
    if (r < 25 && t.lastReq.size > 0) return this.reply(rng, t);
    if (r < 45) {
      const proto = rng.pick([...CONTROL, Protocol.CCP]);
      const pkt = Uint8Array.from(rng.pick(this.control));
      if (rng.chance(0.3)) pkt[1] = t.lastReq.get(proto)?.id ?? pkt[1];
      return [proto, pkt];
    }
    if (r < 52) {
      const pkt = Uint8Array.from(rng.pick(this.auth));
      if (rng.chance(0.5)) pkt[1] = rng.pick([t.chapId, t.papId, pkt[1]]) & 0xff;
      return [rng.chance(0.5) ? Protocol.PAP : Protocol.CHAP, pkt];
    }
    if (r < 72) {
      const f = rng.pick(c.frames);
      const info = rng.chance(0.7) ? mutate(rng, f.info, rng.pick(c.frames).info, 2000) : f.info;
      return [rng.chance(0.9) ? f.protocol : rng.pick(ANY_PROTOCOLS), info];
    }
    if (r < 84) return this.hostile(rng, t);
    if (r < 94) {
      const p = rng.pick(this.ip);
      return [
        rng.chance(0.8)
          ? (p[0] ?? 0) >> 4 === 6
            ? Protocol.IPv6
            : Protocol.IPv4
          : rng.pick(ANY_PROTOCOLS),
        p,
      ];
    }
    // Any valid protocol number (odd low octet, even high octet: RFC 1661 §2).
    return [
      rng.chance(0.7) ? rng.pick(ANY_PROTOCOLS) : (rng.u32() & 0xfeff) | 1,
      rng.bytes(rng.len(400)),
    ];
  }

  /** Ack / Nak / Reject of our own last Configure-Request, right id. */
  private reply(rng: Rng, t: Tracker): Frame {
    const protos = [...t.lastReq.keys()];
    const proto = rng.pick(protos);
    const req = t.lastReq.get(proto)!;
    const opts = parseOptions(req.data) ?? [];
    const k = rng.int(6);
    let code = 2;
    let data: Uint8Array = req.data;
    if (k === 1 || k === 2) {
      // Nak: our options with other values (e.g. an address outside accept-local), or extra ones.
      code = 3;
      const parts: number[] = [];
      for (const o of opts) {
        if (!rng.chance(0.7)) continue;
        const d = rng.chance(0.5) ? rng.bytes(o.data.length) : Uint8Array.from(o.data);
        if (proto === Protocol.IPCP && o.type === 3 && d.length === 4 && rng.chance(0.5)) {
          d.set(
            rng.pick([
              [10, 77, 0, rng.int(256)],
              [192, 0, 2, 1],
              [0, 0, 0, 0],
              [255, 255, 255, 255],
              [10, 78, 0, 1],
              [127, 0, 0, 1],
            ]),
          );
        }
        parts.push(o.type, d.length + 2, ...d);
      }
      if (rng.chance(0.2)) parts.push(rng.int(256), 2);
      data = Uint8Array.from(parts);
    } else if (k === 3) {
      code = 4;
      const parts: number[] = [];
      for (const o of opts) if (rng.chance(0.5)) parts.push(o.type, o.data.length + 2, ...o.data);
      data = Uint8Array.from(parts);
    } else if (k === 4) {
      code = rng.pick([2, 3, 4]);
      data = mutate(rng, req.data, req.data, 300);
    }
    return [proto, emitControlPacket(code, rng.chance(0.9) ? req.id : rng.int(256), data)];
  }

  private hostile(rng: Rng, t: Tracker): Frame {
    switch (rng.int(9)) {
      case 0: // Terminate-Request / -Ack
        return [
          rng.pick(CONTROL),
          emitControlPacket(rng.pick([5, 6]), rng.int(256), rng.bytes(rng.len(40))),
        ];
      case 1: // Code-Reject of a random code
        return [
          rng.pick(CONTROL),
          emitControlPacket(
            7,
            rng.int(256),
            Uint8Array.from([rng.int(16), rng.int(256), 0, 4, ...rng.bytes(rng.len(8))]),
          ),
        ];
      case 2: {
        // Protocol-Reject, LCP itself included
        const p = rng.pick([
          Protocol.LCP,
          Protocol.IPCP,
          Protocol.IPV6CP,
          Protocol.IPv4,
          Protocol.IPv6,
          Protocol.PAP,
          Protocol.CHAP,
          Protocol.CCP,
          rng.u32() & 0xffff,
        ]);
        return [
          Protocol.LCP,
          emitControlPacket(
            8,
            rng.int(256),
            Uint8Array.from([p >> 8, p & 0xff, ...rng.bytes(rng.len(20))]),
          ),
        ];
      }
      case 3: // Echo-Request / Reply / Discard with big data
        return [
          Protocol.LCP,
          emitControlPacket(
            rng.pick([9, 10, 11]),
            rng.chance(0.5) ? t.echoId & 0xff : rng.int(256),
            rng.bytes(rng.chance(0.2) ? rng.range(1400, 1600) : rng.len(64)),
          ),
        ];
      case 4: // forged CHAP Success / Failure with the right id
        return [
          Protocol.CHAP,
          emitControlPacket(rng.pick([3, 4]), t.chapId & 0xff, rng.bytes(rng.len(20))),
        ];
      case 5: // forged PAP Ack / Nak
        return [
          Protocol.PAP,
          emitControlPacket(rng.pick([2, 3]), t.papId & 0xff, Uint8Array.from([3, 79, 75, 10])),
        ];
      case 6: // oversize frame
        return [
          rng.pick([Protocol.LCP, Protocol.IPv4, Protocol.IPCP]),
          rng.bytes(rng.range(1500, 6000)),
        ];
      case 7: // a plausible peer ConfReq (addresses in and out of policy), or random options
        return rng.chance(0.7)
          ? this.peerRequest(rng)
          : [rng.pick(CONTROL), emitControlPacket(1, rng.int(256), rng.bytes(rng.len(60)))];
      default: // LCP ConfReq that renegotiates in Opened
        return [
          Protocol.LCP,
          emitControlPacket(1, rng.int(256), Uint8Array.from([5, 6, ...rng.bytes(4), 7, 2, 8, 2])),
        ];
    }
  }

  /** What a real peer would request: IPCP addr (+DNS), IPv6CP interface id, pppd's LCP set. */
  private peerRequest(rng: Rng): Frame {
    const addr = () =>
      rng.pick([
        [10, 77, 0, 1],
        [10, 77, 0, 2],
        [10, 77, 0, rng.int(256)],
        [192, 0, 2, 1],
        [0, 0, 0, 0],
        [10, 78, 0, 1],
        [255, 255, 255, 255],
      ]);
    const k = rng.int(3);
    if (k === 0) {
      const o = [3, 6, ...addr()];
      if (rng.chance(0.3)) o.push(129, 6, ...addr(), 131, 6, ...addr());
      if (rng.chance(0.2)) o.push(2, 6, 0, 0x2d, 0x0f, 1);
      return [Protocol.IPCP, emitControlPacket(1, rng.int(256), Uint8Array.from(o))];
    }
    if (k === 1)
      return [
        Protocol.IPV6CP,
        emitControlPacket(1, rng.int(256), Uint8Array.from([1, 10, ...rng.bytes(8)])),
      ];
    const o = [2, 6, 0, 0, 0, 0, 5, 6, ...rng.bytes(4), 7, 2, 8, 2];
    if (rng.chance(0.3))
      o.push(
        1,
        4,
        ...rng.pick([
          [0, 64],
          [5, 220],
          [0xff, 0xff],
          [0, 0],
        ]),
      );
    if (rng.chance(0.3)) o.push(3, 4, 0xc0, 0x23);
    if (rng.chance(0.3)) o.push(3, 5, 0xc2, 0x23, 5);
    return [Protocol.LCP, emitControlPacket(1, rng.int(256), Uint8Array.from(o))];
  }

  /** 1-3 frames, HDLC-framed with random options, sometimes mutated after framing. */
  bytes(rng: Rng, t: Tracker): Uint8Array {
    this.framer.configure({
      accm: rng.chance(0.6) ? 0xffffffff : rng.pick([0, rng.u32()]),
      acfc: rng.chance(0.3),
      pfc: rng.chance(0.3),
    });
    for (let k = rng.range(1, 3); k > 0; k--) {
      let [p, info] = this.frame(rng, t);
      // Past LCP, mostly leave LCP negotiation alone so the NCPs get deep (renegotiation still happens).
      for (
        let retry = 0;
        retry < 3 &&
        this.ncpFocus &&
        p === Protocol.LCP &&
        info.length > 0 &&
        info[0] <= 8 &&
        rng.chance(0.85);
        retry++
      ) {
        [p, info] = this.frame(rng, t);
      }
      this.framer.writeFrame(p, info, rng.chance(0.5));
    }
    let out = this.framer.take() ?? new Uint8Array(0);
    if (rng.chance(0.08)) out = mutate(rng, out, rng.pick(loadCorpus().streams));
    if (rng.chance(0.02)) out = rng.bytes(rng.len(500));
    return out;
  }
}

function wantPhase(state: EngineState): string {
  return state === 'fresh' ? 'establish' : state === 'auth' ? 'authenticate' : 'network';
}

/** Feeds one engine in one state; rebuilds it when it drifts out of that state or after 256 inputs. */
class EngineRunner implements FuzzRunner {
  private b: BuiltEngine | null = null;
  private tracker = new Tracker();
  private readonly gen: FrameGenerator;
  private uses = 0;
  private builds = 0;
  private violation: string | null = null;
  private readonly rng: Rng;
  /** Largest output of one input (bounded output check). */
  maxOutput = 0;

  constructor(
    private readonly seed: number,
    private readonly role: Role,
    private readonly state: EngineState,
  ) {
    this.rng = new Rng(seed ^ 0xabcdef);
    this.gen = new FrameGenerator(seed, state === 'lcp' || state === 'up');
  }

  private rebuild(): void {
    const require = this.builds % 2 === 0 ? 'chap' : 'pap';
    const b = buildEngine(
      this.role,
      this.state,
      (this.seed + this.builds * 7919) >>> 0,
      (line) => {
        if (this.violation !== null) return;
        try {
          assertPrintable(line, 'engine log line');
        } catch (err) {
          this.violation = (err as Error).message;
        }
      },
      undefined,
      require,
    );
    this.builds++;
    if (b === null)
      throw new Error(`fixture: could not bring a ${this.role} engine to ${this.state}`);
    this.b = b;
    this.tracker = new Tracker();
    this.drain();
    this.uses = 0;
  }

  private drain(): void {
    const b = this.b!;
    const out = b.engine.takeOutput();
    if (out !== null) {
      if (out.length > this.maxOutput) this.maxOutput = out.length;
      this.tracker.feed(out);
    }
    const evs: EngineEvent[] = b.engine.takeEvents();
    for (const e of evs) {
      const v = b.setup.check(e, this.state);
      if (v !== null && this.violation === null) this.violation = v;
      if ((e.type === 'down' || e.type === 'finished') && this.violation === null) {
        try {
          assertPrintable(e.reason, `${e.type} reason`);
        } catch (err) {
          this.violation = (err as Error).message;
        }
      }
    }
  }

  next(rng: Rng): FuzzInput {
    if (this.b === null || this.uses >= 256 || this.b.engine.phase !== wantPhase(this.state))
      this.rebuild();
    this.uses++;
    return this.gen.bytes(rng, this.tracker);
  }

  run(input: FuzzInput): void {
    const b = this.b!;
    const bytes = input as Uint8Array;
    const rng = this.rng;
    b.now += rng.range(0, 400);
    if (rng.chance(0.5)) b.engine.receive(bytes, b.now);
    else {
      const cut = rng.int(bytes.length + 1);
      b.engine.receive(bytes.subarray(0, cut), b.now);
      b.engine.receive(bytes.subarray(cut), b.now);
    }
    const d = b.engine.nextDeadline();
    if (d !== null && d <= b.now) b.engine.handleTimeout(b.now);
    if (rng.chance(0.01)) {
      b.now += rng.range(1000, 30_000);
      b.engine.handleTimeout(b.now);
    }
    this.drain();
    if (this.violation !== null) {
      const v = this.violation;
      this.violation = null;
      this.b = null; // rebuild after a violation
      throw new InvariantError(v);
    }
  }
}

/** sendIp on one end, receive on the other, both up; random packets and frames. */
class IpRunner implements FuzzRunner {
  private a: BuiltEngine | null = null;
  private z: BuiltEngine | null = null;
  private uses = 0;
  private builds = 0;
  private readonly pool: Uint8Array[];
  private got: Uint8Array[] = [];
  private readonly framer = new HdlcFramer({ maxPending: 1 << 20 });
  private readonly rng: Rng;

  constructor(private readonly seed: number) {
    this.rng = new Rng(seed ^ 0x4242);
    this.pool = pool(ipArb, 4000, seed);
  }

  private rebuild(): void {
    const s = (this.seed + this.builds++ * 104729) >>> 0;
    this.a = buildEngine('client', 'up', s, undefined);
    this.z = buildEngine('server', 'up', s ^ 1, undefined, (_v, p) =>
      this.got.push(Uint8Array.from(p)),
    );
    if (this.a === null || this.z === null) throw new Error('fixture: engines did not come up');
    this.a.engine.takeOutput();
    this.z.engine.takeOutput();
    this.uses = 0;
  }

  next(rng: Rng): FuzzInput {
    if (
      this.a === null ||
      this.uses >= 2000 ||
      this.a.engine.phase !== 'network' ||
      this.z!.engine.phase !== 'network'
    )
      this.rebuild();
    this.uses++;
    const c = loadCorpus();
    const r = rng.int(10);
    if (r < 6) return rng.pick(this.pool);
    if (r < 8) return mutate(rng, rng.pick(this.pool), rng.pick(c.frames).info, 3000);
    return rng.bytes(rng.len(1700));
  }

  run(input: FuzzInput): void {
    const p = input as Uint8Array;
    const a = this.a!.engine;
    const z = this.z!.engine;
    const now = this.a!.now;
    // 1. sendIp on the client; whatever it framed must arrive unchanged at the server.
    this.got = [];
    const ok = a.sendIp(p, now);
    const out = a.takeOutput();
    if (ok) {
      if (out === null) throw new InvariantError('sendIp returned true but produced no output');
      if (p.length > 1500)
        throw new InvariantError(`sendIp accepted ${p.length} bytes > peer MRU 1500`);
      z.receive(out, now);
      if (this.got.length !== 1 || !equal(this.got[0], p))
        throw new InvariantError(`IP packet of ${p.length} bytes not delivered intact`);
    } else if (out !== null)
      throw new InvariantError('sendIp dropped the packet but produced output');
    // 2. The same bytes as an IP frame of either version straight into the server's receive path.
    this.framer.writeFrame(this.rng.chance(0.5) ? Protocol.IPv4 : Protocol.IPv6, p, false);
    z.receive(this.framer.take()!, now);
    z.takeOutput();
    z.takeEvents();
    a.takeEvents();
  }
}

function equal(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function engineTarget(role: Role, state: EngineState): FuzzTarget {
  return {
    name: `engine-${role}-${state}`,
    what: `PppEngine.receive, ${role} config, ${state}`,
    create: (s) => new EngineRunner(s, role, state),
  };
}

export const ENGINE_TARGETS: FuzzTarget[] = [
  engineTarget('client', 'fresh'),
  engineTarget('client', 'auth'),
  engineTarget('client', 'lcp'),
  engineTarget('client', 'up'),
  engineTarget('server', 'fresh'),
  engineTarget('server', 'auth'),
  engineTarget('server', 'lcp'),
  engineTarget('server', 'up'),
  {
    name: 'engine-ip',
    what: 'sendIp + IP frames between two up engines',
    create: (s) => new IpRunner(s),
  },
];
