/**
 * CHAP with MD5 (RFC 1994), both roles, sans-IO.
 *
 * Response value = MD5(Identifier ‖ secret ‖ Challenge-Value) (RFC 1994 §4.1).
 * Defaults follow pppd: `chap-restart 3`, `chap-max-challenge 10`; the server
 * picks a random first identifier and a 16-byte challenge from the injected
 * `random32()`, and may re-challenge periodically (pppd `chap-interval`).
 */
import { md5 } from './md5.js';
import {
  AuthError,
  AuthMachine,
  type AuthPacket,
  type AuthStep,
  ChapCode,
  constantTimeEqual,
  decodeMessage,
  decodeUtf8,
  displayText,
  noReply,
  utf8,
} from './packet.js';

export const CHAP_DEFAULT_RESTART_MS = 3000;
export const CHAP_DEFAULT_MAX_CHALLENGES = 10;
export const CHAP_DEFAULT_CLIENT_TIMEOUT_MS = 30_000;
/** MD5 digest length: the only Response value size CHAP-MD5 accepts. */
export const CHAP_MD5_VALUE_SIZE = 16;

/** MD5(id ‖ secret ‖ challenge): the CHAP-MD5 Response value. */
export function chapMd5Response(id: number, secret: Uint8Array, challenge: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + secret.length + challenge.length);
  buf[0] = id & 0xff;
  buf.set(secret, 1);
  buf.set(challenge, 1 + secret.length);
  return md5(buf);
}

/** Parses `Value-Size Value Name` (RFC 1994 §4.1); null when short or the value is empty. */
export function parseChapValue(d: Uint8Array): { value: Uint8Array; name: Uint8Array } | null {
  if (d.length < 1) return null;
  const size = d[0];
  if (size === 0 || d.length < 1 + size) return null;
  return { value: d.subarray(1, 1 + size), name: d.subarray(1 + size) };
}

function valueData(value: Uint8Array, name: Uint8Array): Uint8Array {
  const d = new Uint8Array(1 + value.length + name.length);
  d[0] = value.length;
  d.set(value, 1);
  d.set(name, 1 + value.length);
  return d;
}

export interface ChapClientOptions {
  /** Our name, sent in every Response (pppd `user`). */
  name: string;
  secret: string;
  /**
   * Give up when no Success/Failure has arrived this long after `start`
   * (a lost Success is never retransmitted by the authenticator); default 30000, 0 = never.
   */
  timeoutMs?: number;
}

/** The authenticatee: answers every Challenge, including re-challenges after Success. */
export class ChapClient extends AuthMachine {
  private readonly name: Uint8Array;
  private readonly secret: Uint8Array;
  private readonly timeoutMs: number;
  private state: 'initial' | 'waiting' | 'ok' | 'bad' = 'initial';
  private lastId = -1;
  private deadline: number | null = null;

  constructor(opts: ChapClientOptions) {
    super();
    this.name = utf8(opts.name);
    this.secret = utf8(opts.secret);
    this.timeoutMs = opts.timeoutMs ?? CHAP_DEFAULT_CLIENT_TIMEOUT_MS;
    if (this.name.length > 1500) throw new AuthError('CHAP name is too long');
    if (!(this.timeoutMs >= 0)) throw new AuthError('CHAP timeoutMs must not be negative');
  }

  /** Nothing to send: the authenticator speaks first. */
  start(nowMs: number): AuthStep {
    this.state = 'waiting';
    this.lastId = -1;
    this.deadline = this.timeoutMs > 0 ? nowMs + this.timeoutMs : null;
    return noReply();
  }

  receive(pkt: AuthPacket, nowMs: number): AuthStep {
    void nowMs;
    this.stats.received++;
    if (this.state === 'initial') {
      return this.drop('ignored');
    }
    switch (pkt.code) {
      case ChapCode.Challenge: {
        if (this.state === 'bad') {
          return this.drop('ignored');
        }
        const ch = parseChapValue(pkt.data);
        if (ch === null) {
          return this.drop('malformed');
        }
        this.lastId = pkt.id;
        const value = chapMd5Response(pkt.id, this.secret, ch.value);
        return {
          send: [{ code: ChapCode.Response, id: pkt.id, data: valueData(value, this.name) }],
        };
      }
      case ChapCode.Success:
      case ChapCode.Failure: {
        if (pkt.id !== this.lastId || this.state === 'bad') {
          return this.drop('ignored');
        }
        const ok = pkt.code === ChapCode.Success;
        const message = decodeMessage(pkt.data);
        const wasOk = this.state === 'ok';
        this.state = ok ? 'ok' : 'bad';
        this.deadline = null;
        if (ok && wasOk) return noReply(); // Success of a re-challenge: nothing changes
        return {
          send: [],
          result: {
            ok,
            message:
              message || (ok ? 'CHAP authentication succeeded' : 'CHAP authentication failed'),
          },
        };
      }
      default:
        return this.drop('ignored');
    }
  }

  handleTimeout(nowMs: number): AuthStep {
    if (this.state !== 'waiting' || this.deadline === null || nowMs < this.deadline)
      return noReply();
    this.state = 'bad';
    this.deadline = null;
    return {
      send: [],
      result: { ok: false, message: 'No CHAP success or failure received from peer' },
    };
  }

  nextDeadline(): number | null {
    return this.deadline;
  }
}

export interface ChapServerOptions {
  /** Our name, sent in every Challenge (pppd: the host name, `pppd-vm` in the captures). */
  name: string;
  /** The secret shared with the named peer, or null when it has none (→ Failure). */
  secretFor(peerName: string): string | null;
  /** Injected randomness for the first identifier and the challenge values. */
  random32(): number;
  /** Time between Challenge retransmissions; default 3000 (pppd `chap-restart`). */
  restartMs?: number;
  /** Challenges sent before giving up; default 10 (pppd `chap-max-challenge`). */
  maxChallenges?: number;
  /** Re-challenge this long after each Success (pppd `chap-interval`); default 0 = never. */
  rechallengeMs?: number;
  /** Challenge value length, 1-255; default 16. */
  challengeLength?: number;
  /** Success message; default "Access granted" (pppd). */
  okMessage?: string;
  /** Failure message; default "Access denied" (pppd). */
  failMessage?: string;
}

/** The authenticator: Challenge, check the Response, Success or Failure. */
export class ChapServer extends AuthMachine {
  private readonly opts: ChapServerOptions;
  private readonly restartMs: number;
  private readonly maxChallenges: number;
  private readonly rechallengeMs: number;
  private readonly challengeLength: number;
  private readonly name: Uint8Array;
  private state: 'initial' | 'pending' | 'ok' | 'bad' = 'initial';
  private everOk = false;
  private id = 0;
  private challenge: Uint8Array = new Uint8Array(0);
  private challengePkt: AuthPacket | null = null;
  private transmits = 0;
  private deadline: number | null = null;

  constructor(opts: ChapServerOptions) {
    super();
    this.opts = opts;
    this.restartMs = opts.restartMs ?? CHAP_DEFAULT_RESTART_MS;
    this.maxChallenges = opts.maxChallenges ?? CHAP_DEFAULT_MAX_CHALLENGES;
    this.rechallengeMs = opts.rechallengeMs ?? 0;
    this.challengeLength = opts.challengeLength ?? 16;
    this.name = utf8(opts.name);
    if (!(this.restartMs > 0)) throw new AuthError('CHAP restartMs must be positive');
    if (!(this.maxChallenges >= 1)) throw new AuthError('CHAP maxChallenges must be at least 1');
    if (!(this.rechallengeMs >= 0)) throw new AuthError('CHAP rechallengeMs must not be negative');
    if (!(this.challengeLength >= 1 && this.challengeLength <= 255))
      throw new AuthError('CHAP challengeLength must be 1-255');
    if (this.name.length > 1500) throw new AuthError('CHAP name is too long');
    this.id = opts.random32() & 0xff;
  }

  /** Sends the first Challenge. */
  start(nowMs: number): AuthStep {
    this.everOk = false;
    return { send: [this.newChallenge(nowMs)] };
  }

  receive(pkt: AuthPacket, nowMs: number): AuthStep {
    this.stats.received++;
    if (
      pkt.code !== ChapCode.Response ||
      this.state === 'initial' ||
      this.challengePkt === null ||
      pkt.id !== this.id
    ) {
      return this.drop('ignored');
    }
    const rsp = parseChapValue(pkt.data);
    if (rsp === null) {
      return this.drop('malformed');
    }
    if (this.state !== 'pending') {
      // Our Success/Failure was lost and the peer answered the same challenge again.
      return { send: [this.status(pkt.id, this.state === 'ok')] };
    }
    const peerName = decodeUtf8(rsp.name);
    let secret: string | null = null;
    if (peerName !== null) {
      try {
        secret = this.opts.secretFor(peerName);
      } catch {
        secret = null;
      }
    }
    // Always hash, so a missing secret takes as long as a wrong one.
    const expected = chapMd5Response(pkt.id, utf8(secret ?? ''), this.challenge);
    const ok =
      secret !== null &&
      rsp.value.length === CHAP_MD5_VALUE_SIZE &&
      constantTimeEqual(rsp.value, expected);
    this.state = ok ? 'ok' : 'bad';
    this.deadline = ok && this.rechallengeMs > 0 ? nowMs + this.rechallengeMs : null;
    const shownName = peerName ?? decodeMessage(rsp.name);
    const send = [this.status(pkt.id, ok)];
    if (ok && this.everOk) return { send }; // a re-challenge passed: nothing changes
    this.everOk ||= ok;
    return {
      send,
      result: ok
        ? {
            ok: true,
            message: `CHAP peer authentication succeeded for ${displayText(shownName)}`,
            peerName: shownName,
          }
        : {
            ok: false,
            message: `CHAP peer authentication failed for ${displayText(shownName)}`,
            peerName: shownName,
          },
    };
  }

  handleTimeout(nowMs: number): AuthStep {
    if (this.deadline === null || nowMs < this.deadline) return noReply();
    if (this.state === 'ok') return { send: [this.newChallenge(nowMs)] }; // periodic re-challenge
    if (this.state !== 'pending') return noReply();
    if (this.transmits >= this.maxChallenges) {
      this.state = 'bad';
      this.deadline = null;
      return {
        send: [],
        result: { ok: false, message: 'Peer failed to respond to CHAP challenge' },
      };
    }
    this.transmits++;
    this.stats.retransmits++;
    this.deadline = nowMs + this.restartMs;
    return { send: [this.challengePkt as AuthPacket] };
  }

  nextDeadline(): number | null {
    return this.deadline;
  }

  private newChallenge(nowMs: number): AuthPacket {
    if (this.challengePkt !== null) this.id = (this.id + 1) & 0xff;
    const value = new Uint8Array(this.challengeLength);
    for (let i = 0; i < value.length; i += 4) {
      const r = this.opts.random32() >>> 0;
      for (let j = 0; j < 4 && i + j < value.length; j++) value[i + j] = (r >>> (8 * j)) & 0xff;
    }
    this.challenge = value;
    this.challengePkt = {
      code: ChapCode.Challenge,
      id: this.id,
      data: valueData(value, this.name),
    };
    this.state = 'pending';
    this.transmits = 1;
    this.deadline = nowMs + this.restartMs;
    return this.challengePkt;
  }

  private status(id: number, ok: boolean): AuthPacket {
    const msg = ok
      ? (this.opts.okMessage ?? 'Access granted')
      : (this.opts.failMessage ?? 'Access denied');
    return { code: ok ? ChapCode.Success : ChapCode.Failure, id, data: utf8(msg) };
  }
}
