/**
 * IPv6CP negotiation policy (RFC 5072 §4.1): Interface-Identifier only.
 *  - our identifier is configured or random (non-zero, from random32);
 *  - a zero identifier from the peer is Nak'd with a suggestion;
 *  - an identifier equal to ours is Nak'd with a different one;
 *  - if we were configured with the peer's identifier, other values are Nak'd with it;
 *  - a Nak of ours is followed (a zero suggestion makes us pick a new random one).
 * Compression (§4.2) and unknown options are rejected.
 */

import { bytesEqual } from '../ppp/bytes.js';
import { isOption, type ParsedOption, type RawOption } from '../ppp/options.js';
import { ACK, type FsmPolicy, nak, type OptionVerdict, REJECT, rejectEach } from '../ppp/policy.js';
import { Protocol } from '../ppp/protocols.js';
import { isZeroId, randomInterfaceId } from './ipv6.js';
import { Ipv6cpOpt, interfaceIdCodec } from './ipv6cp-options.js';
import { IPV6CP_PRINTER } from './printers.js';

/** IPv6CP settings. */
export interface Ipv6cpConfig {
  /** Our identifier; random when absent. */
  interfaceId: Uint8Array | null;
  /** The identifier the peer must use; any non-zero, non-colliding one when absent. */
  peerInterfaceId: Uint8Array | null;
  /** Random source. */
  random32: () => number;
}

/** The IPv6CP {@link FsmPolicy}. */
export class Ipv6cpPolicy implements FsmPolicy {
  readonly protocol = Protocol.IPV6CP;
  readonly printer = IPV6CP_PRINTER;
  readonly config: Ipv6cpConfig;
  /** Identifier we would like (want). */
  private wantId: Uint8Array;
  /** Identifier we request now (got) and whether we still send the option. */
  gotId: Uint8Array;
  gotNeg = true;
  /** The peer's identifier from its last request (his), null if absent. */
  hisId: Uint8Array | null = null;
  /** Identifier used for the peer when it never proposed one. */
  private fallbackPeerId: Uint8Array | null = null;

  constructor(config: Ipv6cpConfig) {
    this.config = config;
    const id = config.interfaceId;
    this.wantId =
      id !== null && !isZeroId(id) ? Uint8Array.from(id) : randomInterfaceId(config.random32);
    this.gotId = this.wantId;
  }

  resetNegotiation(): void {
    this.gotId = this.wantId;
    this.gotNeg = true;
  }

  ownOptions(): RawOption[] {
    return this.gotNeg
      ? [{ type: Ipv6cpOpt.InterfaceId, data: interfaceIdCodec.emit(this.gotId) }]
      : [];
  }

  onAck(): void {
    // Keep a negotiated identifier across renegotiations.
    this.wantId = this.gotId;
  }

  onNak(options: ParsedOption[]): boolean {
    for (const o of options) {
      if (!isOption(o, interfaceIdCodec)) continue;
      const suggested = o.value;
      if (isZeroId(suggested) || (this.hisId !== null && bytesEqual(suggested, this.hisId))) {
        this.gotId = this.freshId();
      } else {
        this.gotId = Uint8Array.from(suggested);
      }
    }
    return true;
  }

  onReject(options: ParsedOption[]): boolean {
    return rejectEach(options, {
      [Ipv6cpOpt.InterfaceId]: () => {
        this.gotNeg = false;
      },
    });
  }

  beginPeerRequest(): void {
    this.hisId = null;
  }

  onPeerOption(o: ParsedOption): OptionVerdict {
    if (!isOption(o, interfaceIdCodec)) return REJECT;
    const data = o.value;
    const want = this.config.peerInterfaceId;
    if (want !== null && !isZeroId(want)) {
      if (bytesEqual(data, want)) return this.ackId(data);
      return nak(Uint8Array.from(want));
    }
    if (isZeroId(data) || bytesEqual(data, this.gotId)) return nak(this.freshId());
    return this.ackId(data);
  }

  private ackId(data: Uint8Array): OptionVerdict {
    this.hisId = Uint8Array.from(data);
    return ACK;
  }

  /** A random identifier different from ours and the peer's. */
  private freshId(): Uint8Array {
    const id = randomInterfaceId(this.config.random32);
    // A constant or unlucky random source: step the last octet until it differs.
    for (let i = 0; i < 4; i++) {
      if (
        !isZeroId(id) &&
        !bytesEqual(id, this.gotId) &&
        (this.hisId === null || !bytesEqual(id, this.hisId))
      )
        break;
      id[7] = (id[7] + 1) & 0xff;
    }
    return id;
  }

  /** Our identifier for the up event. */
  get localId(): Uint8Array {
    return this.gotId;
  }

  /** The peer's identifier for the up event. */
  get peerId(): Uint8Array {
    if (this.hisId !== null) return this.hisId;
    const want = this.config.peerInterfaceId;
    if (want !== null && !isZeroId(want)) return want;
    if (this.fallbackPeerId === null) this.fallbackPeerId = this.freshId();
    return this.fallbackPeerId;
  }
}
