/**
 * The Authenticate phase (RFC 1661 §3.5): runs the PAP/CHAP machines of
 * src/auth for whichever directions LCP negotiated, routes their packets, and
 * reports one overall outcome.
 */

import {
  type AuthPacket,
  type AuthStep,
  ChapClient,
  ChapCode,
  ChapServer,
  PapClient,
  PapCode,
  PapServer,
} from '../auth/index.js';
import { Protocol } from '../ppp/protocols.js';
import type { ResolvedSettings } from './settings.js';

/** A machine of either role: the shape shared by the four auth classes. */
interface AuthMachine {
  start(nowMs: number): AuthStep;
  receive(pkt: AuthPacket, nowMs: number): AuthStep;
  handleTimeout(nowMs: number): AuthStep;
  nextDeadline(): number | null;
}

/** Where the coordinator sends packets and outcomes. */
export interface AuthSink {
  sendAuth(protocol: number, pkt: AuthPacket): void;
  /** Overall outcome of the phase, or a later failure (CHAP re-challenge). */
  authResult(ok: boolean, message: string, peerName: string | undefined, nowMs: number): void;
}

/** One authentication phase; recreated each time LCP opens. */
export class AuthPhase {
  private server: AuthMachine | null = null;
  private serverProtocol = 0;
  private client: AuthMachine | null = null;
  private clientProtocol = 0;
  private serverOk = false;
  private clientOk = false;
  private peerName: string | undefined = undefined;
  private reported = false;
  private failed = false;
  private readonly sink: AuthSink;
  private readonly opts: ResolvedSettings['auth'];
  private readonly random32: () => number;

  constructor(sink: AuthSink, opts: ResolvedSettings['auth'], random32: () => number) {
    this.sink = sink;
    this.opts = opts;
    this.random32 = random32;
  }

  /**
   * Starts the machines. `serverProto`: what we require of the peer (0 none);
   * `clientProto`: what the peer requires of us (0 none). Returns false when
   * nothing needs authenticating.
   */
  start(serverProto: number, clientProto: number, nowMs: number): boolean {
    const o = this.opts;
    this.serverProtocol = serverProto;
    this.clientProtocol = clientProto;
    this.server = null;
    this.client = null;
    this.serverOk = serverProto === 0;
    this.clientOk = clientProto === 0;
    this.reported = false;
    this.failed = false;
    if (serverProto === Protocol.PAP && o.verify !== null) {
      this.server = new PapServer({ verify: o.verify });
    } else if (serverProto === Protocol.CHAP && o.secretFor !== null) {
      this.server = new ChapServer({
        name: o.name,
        secretFor: o.secretFor,
        random32: this.random32,
      });
    }
    if (clientProto === Protocol.PAP && o.user !== null && o.password !== null) {
      this.client = new PapClient({ user: o.user, password: o.password });
    } else if (clientProto === Protocol.CHAP && o.user !== null && o.password !== null) {
      this.client = new ChapClient({ name: o.user, secret: o.password });
    }
    if (serverProto === 0 && clientProto === 0) return false;
    if (this.server !== null) this.apply(this.server.start(nowMs), true, nowMs);
    if (this.client !== null) this.apply(this.client.start(nowMs), false, nowMs);
    return true;
  }

  /** Stops everything (LCP went down). */
  stop(): void {
    this.server = null;
    this.client = null;
  }

  /** True when a received packet of `protocol` belongs to a running machine. */
  handles(protocol: number): boolean {
    return (
      (this.server !== null && protocol === this.serverProtocol) ||
      (this.client !== null && protocol === this.clientProtocol)
    );
  }

  /** Routes a PAP/CHAP packet to the machine of the right role. Returns false if nobody takes it. */
  receive(protocol: number, pkt: AuthPacket, nowMs: number): boolean {
    const toServer =
      protocol === Protocol.PAP ? pkt.code === PapCode.AuthReq : pkt.code === ChapCode.Response;
    if (toServer) {
      if (this.server === null || protocol !== this.serverProtocol) return false;
      this.apply(this.server.receive(pkt, nowMs), true, nowMs);
      return true;
    }
    if (this.client === null || protocol !== this.clientProtocol) return false;
    this.apply(this.client.receive(pkt, nowMs), false, nowMs);
    return true;
  }

  handleTimeout(nowMs: number): void {
    if (this.server !== null) this.apply(this.server.handleTimeout(nowMs), true, nowMs);
    if (this.client !== null) this.apply(this.client.handleTimeout(nowMs), false, nowMs);
  }

  nextDeadline(): number | null {
    const a = this.server?.nextDeadline() ?? null;
    const b = this.client?.nextDeadline() ?? null;
    if (a === null) return b;
    if (b === null) return a;
    return Math.min(a, b);
  }

  /** Fails at once when a needed machine could not be built (no credentials). */
  checkConfigured(nowMs: number): void {
    if (this.serverProtocol !== 0 && this.server === null) {
      this.fail('no way to verify the peer', nowMs);
    } else if (this.clientProtocol !== 0 && this.client === null) {
      this.fail('peer requires authentication but no credentials are configured', nowMs);
    }
  }

  private apply(step: AuthStep, server: boolean, nowMs: number): void {
    const proto = server ? this.serverProtocol : this.clientProtocol;
    for (const p of step.send) this.sink.sendAuth(proto, p);
    const r = step.result;
    if (r === undefined) return;
    if (!r.ok) {
      this.fail(r.message, nowMs);
      return;
    }
    if (server) {
      this.serverOk = true;
      this.peerName = r.peerName;
    } else {
      this.clientOk = true;
    }
    if (this.serverOk && this.clientOk && !this.reported && !this.failed) {
      this.reported = true;
      this.sink.authResult(true, r.message, this.peerName, nowMs);
    }
  }

  private fail(message: string, nowMs: number): void {
    if (this.failed) return;
    this.failed = true;
    this.sink.authResult(false, message, this.peerName, nowMs);
  }
}
