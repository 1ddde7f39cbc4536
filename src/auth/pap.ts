/**
 * PAP (RFC 1334 §2), both roles, sans-IO.
 *
 * Timers are deadlines: the caller arms one timer from `nextDeadline()` and
 * calls `handleTimeout(now)` when it fires (early or spurious calls are harmless).
 * Defaults follow pppd: `pap-restart 3`, `pap-max-authreq 10`, `pap-timeout 30`.
 */
import {
  AuthError,
  AuthMachine,
  type AuthPacket,
  type AuthStep,
  decodeMessage,
  decodeUtf8,
  displayText,
  noReply,
  PapCode,
  utf8,
} from './packet.js';

export const PAP_DEFAULT_RESTART_MS = 3000;
export const PAP_DEFAULT_MAX_REQUESTS = 10;
export const PAP_DEFAULT_SERVER_TIMEOUT_MS = 30_000;

/** Message-carrying payload `len msg…` of Ack/Nak (RFC 1334 §2.2.2). */
function messageData(msg: string): Uint8Array {
  const m = utf8(msg).subarray(0, 255);
  const d = new Uint8Array(1 + m.length);
  d[0] = m.length;
  d.set(m, 1);
  return d;
}

/** Parses `Peer-ID-Length Peer-ID Passwd-Length Password` (RFC 1334 §2.2.1); null if short. */
export function parsePapRequest(d: Uint8Array): { user: Uint8Array; password: Uint8Array } | null {
  if (d.length < 1) return null;
  const ulen = d[0];
  if (d.length < ulen + 2) return null;
  const plen = d[ulen + 1];
  if (d.length < ulen + 2 + plen) return null;
  return { user: d.subarray(1, 1 + ulen), password: d.subarray(ulen + 2, ulen + 2 + plen) };
}

export interface PapClientOptions {
  user: string;
  password: string;
  /** Time between Authenticate-Requests; default 3000 (pppd `pap-restart`). */
  restartMs?: number;
  /** Requests sent before giving up; default 10 (pppd `pap-max-authreq`). */
  maxRequests?: number;
}

/** The authenticatee: sends Authenticate-Request until Ack, Nak or too many tries. */
export class PapClient extends AuthMachine {
  private readonly request: Uint8Array;
  private readonly restartMs: number;
  private readonly maxRequests: number;
  private state: 'initial' | 'pending' | 'done' = 'initial';
  private id = 0;
  private transmits = 0;
  private deadline: number | null = null;

  constructor(opts: PapClientOptions) {
    super();
    const u = utf8(opts.user);
    const p = utf8(opts.password);
    if (u.length > 255) throw new AuthError('PAP user is longer than 255 bytes');
    if (p.length > 255) throw new AuthError('PAP password is longer than 255 bytes');
    this.restartMs = opts.restartMs ?? PAP_DEFAULT_RESTART_MS;
    this.maxRequests = opts.maxRequests ?? PAP_DEFAULT_MAX_REQUESTS;
    if (!(this.restartMs > 0)) throw new AuthError('PAP restartMs must be positive');
    if (!(this.maxRequests >= 1)) throw new AuthError('PAP maxRequests must be at least 1');
    this.request = new Uint8Array(2 + u.length + p.length);
    this.request[0] = u.length;
    this.request.set(u, 1);
    this.request[1 + u.length] = p.length;
    this.request.set(p, 2 + u.length);
  }

  /** Sends the first Authenticate-Request (id 1, like pppd). */
  start(nowMs: number): AuthStep {
    this.state = 'pending';
    this.transmits = 0;
    return { send: [this.sendRequest(nowMs)] };
  }

  receive(pkt: AuthPacket, nowMs: number): AuthStep {
    void nowMs;
    this.stats.received++;
    if (pkt.code !== PapCode.AuthAck && pkt.code !== PapCode.AuthNak) {
      return this.drop('ignored');
    }
    if (this.state !== 'pending' || pkt.id !== this.id) {
      return this.drop('ignored'); // stale or duplicate reply (RFC 1334 §2.2.2: id must match)
    }
    // pppd accepts a reply without Msg-Length as an empty message, drops a short one.
    let message = '';
    const d = pkt.data;
    if (d.length >= 1) {
      if (d.length < 1 + d[0]) {
        return this.drop('malformed');
      }
      message = decodeMessage(d.subarray(1, 1 + d[0]));
    }
    this.state = 'done';
    this.deadline = null;
    const ok = pkt.code === PapCode.AuthAck;
    return {
      send: [],
      result: {
        ok,
        message: message || (ok ? 'PAP authentication succeeded' : 'PAP authentication failed'),
      },
    };
  }

  handleTimeout(nowMs: number): AuthStep {
    if (this.state !== 'pending' || this.deadline === null || nowMs < this.deadline)
      return noReply();
    if (this.transmits >= this.maxRequests) {
      this.state = 'done';
      this.deadline = null;
      return {
        send: [],
        result: { ok: false, message: 'No response to PAP authenticate-requests' },
      };
    }
    this.stats.retransmits++;
    return { send: [this.sendRequest(nowMs)] };
  }

  nextDeadline(): number | null {
    return this.deadline;
  }

  /** Every (re)transmission takes a new identifier, as pppd does. */
  private sendRequest(nowMs: number): AuthPacket {
    this.id = (this.id + 1) & 0xff;
    this.transmits++;
    this.deadline = nowMs + this.restartMs;
    return { code: PapCode.AuthReq, id: this.id, data: this.request };
  }
}

export interface PapServerOptions {
  /** Checks a peer's credentials; should compare in constant time. */
  verify(user: string, password: string): boolean;
  /** How long to wait for an Authenticate-Request; default 30000 (pppd `pap-timeout`); 0 = forever. */
  timeoutMs?: number;
  /** Ack message; default "Login ok" (pppd). */
  okMessage?: string;
  /** Nak message; default "Login incorrect" (pppd). */
  failMessage?: string;
}

/** The authenticator: waits for Authenticate-Request, answers Ack or Nak. */
export class PapServer extends AuthMachine {
  private readonly opts: PapServerOptions;
  private readonly timeoutMs: number;
  private state: 'initial' | 'listen' | 'ok' | 'bad' = 'initial';
  private deadline: number | null = null;
  private verdict: Uint8Array | null = null;

  constructor(opts: PapServerOptions) {
    super();
    this.opts = opts;
    this.timeoutMs = opts.timeoutMs ?? PAP_DEFAULT_SERVER_TIMEOUT_MS;
    if (!(this.timeoutMs >= 0)) throw new AuthError('PAP timeoutMs must not be negative');
  }

  start(nowMs: number): AuthStep {
    this.state = 'listen';
    this.verdict = null;
    this.deadline = this.timeoutMs > 0 ? nowMs + this.timeoutMs : null;
    return noReply();
  }

  receive(pkt: AuthPacket, nowMs: number): AuthStep {
    void nowMs;
    this.stats.received++;
    if (pkt.code !== PapCode.AuthReq || this.state === 'initial') {
      return this.drop('ignored');
    }
    const req = parsePapRequest(pkt.data);
    if (req === null) {
      return this.drop('malformed');
    }
    if (this.state !== 'listen') {
      // Our reply was lost and the peer retried: repeat the verdict (pppd does the same).
      return {
        send: [
          {
            code: this.state === 'ok' ? PapCode.AuthAck : PapCode.AuthNak,
            id: pkt.id,
            data: this.verdict as Uint8Array,
          },
        ],
      };
    }
    const user = decodeUtf8(req.user);
    const password = decodeUtf8(req.password);
    let ok = false;
    if (user !== null && password !== null) {
      try {
        ok = this.opts.verify(user, password) === true;
      } catch {
        ok = false;
      }
    }
    this.state = ok ? 'ok' : 'bad';
    this.deadline = null;
    const message = ok
      ? (this.opts.okMessage ?? 'Login ok')
      : (this.opts.failMessage ?? 'Login incorrect');
    this.verdict = messageData(message);
    const peerName = user ?? decodeMessage(req.user);
    return {
      send: [{ code: ok ? PapCode.AuthAck : PapCode.AuthNak, id: pkt.id, data: this.verdict }],
      result: ok
        ? {
            ok: true,
            message: `PAP peer authentication succeeded for ${displayText(peerName)}`,
            peerName,
          }
        : {
            ok: false,
            message: `PAP peer authentication failed for ${displayText(peerName)}`,
            peerName,
          },
    };
  }

  handleTimeout(nowMs: number): AuthStep {
    if (this.state !== 'listen' || this.deadline === null || nowMs < this.deadline)
      return noReply();
    this.state = 'bad';
    this.deadline = null;
    this.verdict = messageData(this.opts.failMessage ?? 'Login incorrect');
    return {
      send: [],
      result: { ok: false, message: 'No PAP authenticate-request received from peer' },
    };
  }

  nextDeadline(): number | null {
    return this.deadline;
  }
}
