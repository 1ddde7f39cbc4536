/**
 * IPCP negotiation policy (RFC 1332, RFC 1877 DNS):
 *  - IP-Address (3): a side that knows the peer's address Naks a wrong or
 *    0.0.0.0 proposal with it; a side without its own address asks with
 *    0.0.0.0 and takes the Nak'd one if `acceptLocal` allows;
 *  - DNS (129/131): requested when `requestDns`; handed out from `dns`
 *    (one address is offered for both, like pppd); rejected when we have none;
 *  - IP-Addresses (1), VJ compression (2), NBNS (130/132) and unknown options: rejected.
 */

import { formatIpv4 } from '../ppp/ipv4.js';
import { isOption, type ParsedOption, type RawOption, rawOption } from '../ppp/options.js';
import {
  ACK,
  FatalLatch,
  type FsmPolicy,
  nak,
  OptionValues,
  type OptionVerdict,
  REJECT,
  rejectEach,
} from '../ppp/policy.js';
import { Protocol } from '../ppp/protocols.js';
import { IpcpOpt, ipAddressCodec, primaryDnsCodec, secondaryDnsCodec } from './ipcp-options.js';
import { IPCP_PRINTER } from './printers.js';

/** IPCP settings with addresses as 32-bit numbers (0 = unknown). */
export interface IpcpConfig {
  /** Our address; 0 = ask the peer. */
  local: number;
  /** The peer's address we assign or insist on; 0 = none. */
  peer: number;
  /** May we take this address offered by the peer? */
  acceptLocal: (addr: string) => boolean;
  /** May the peer use the address it proposes? */
  acceptPeer: (addr: string) => boolean;
  /** Ask the peer for DNS servers (RFC 1877). */
  requestDns: boolean;
  /** DNS servers we hand out (0-2). */
  dns: number[];
}

/** One set of IPCP option values (want / got / his). */
export class IpcpOptionSet extends OptionValues {
  negAddr = false;
  addr = 0;
  negDns1 = false;
  dns1 = 0;
  negDns2 = false;
  dns2 = 0;
}

/** The IPCP {@link FsmPolicy}. */
export class IpcpPolicy extends FatalLatch implements FsmPolicy {
  readonly protocol = Protocol.IPCP;
  readonly printer = IPCP_PRINTER;
  readonly config: IpcpConfig;
  readonly want = new IpcpOptionSet();
  readonly got = new IpcpOptionSet();
  readonly his = new IpcpOptionSet();
  /** Address the peer pushed on us that `acceptLocal` refused (for the failure reason). */
  private refusedLocal = 0;
  /** What went wrong with our IP-Address (refused by the peer), naming the address. */
  private ourProblem: string | null = null;
  /** What went wrong with the peer's IP-Address (refused by us), naming the address. */
  private peerProblem: string | null = null;

  constructor(config: IpcpConfig) {
    super();
    this.config = config;
    this.want.negAddr = true;
    this.want.addr = config.local >>> 0;
    this.want.negDns1 = config.requestDns;
    this.want.negDns2 = config.requestDns;
    this.got.copyFrom(this.want);
  }

  resetNegotiation(): void {
    this.got.copyFrom(this.want);
    this.refusedLocal = 0;
    this.fatal = null;
    this.ourProblem = null;
    this.peerProblem = null;
  }

  /**
   * Why the addresses did not agree, naming the option and address (e.g. `peer address
   * 10.9.9.9 is outside accept-peer`), or null. Kept until that side's address is acked.
   */
  get problem(): string | null {
    if (this.ourProblem !== null && this.peerProblem !== null)
      return `${this.ourProblem}; ${this.peerProblem}`;
    return this.ourProblem ?? this.peerProblem;
  }

  ownOptions(): RawOption[] {
    const g = this.got;
    const out: RawOption[] = [];
    if (g.negAddr) out.push(rawOption(ipAddressCodec, g.addr));
    if (g.negDns1) out.push(rawOption(primaryDnsCodec, g.dns1));
    if (g.negDns2) out.push(rawOption(secondaryDnsCodec, g.dns2));
    return out;
  }

  onAck(): void {
    this.ourProblem = null;
  }

  onNak(options: ParsedOption[]): boolean {
    const g = this.got;
    for (const o of options) {
      if (isOption(o, ipAddressCodec)) {
        const v = o.value;
        if (v === 0 || v === g.addr) continue;
        if (this.config.acceptLocal(formatIpv4(v))) {
          g.negAddr = true;
          g.addr = v;
        } else {
          this.refusedLocal = v;
          this.ourProblem =
            g.addr === 0
              ? `peer offers us address ${formatIpv4(v)}, outside accept-local`
              : `peer refused our address ${formatIpv4(g.addr)} and offers ${formatIpv4(v)}, outside accept-local`;
        }
      } else if (isOption(o, primaryDnsCodec)) {
        if (this.want.negDns1) g.dns1 = o.value;
      } else if (isOption(o, secondaryDnsCodec)) {
        if (this.want.negDns2) g.dns2 = o.value;
      }
      // Anything else (e.g. a VJ suggestion): we do not compress; ignore.
    }
    return true;
  }

  onReject(options: ParsedOption[]): boolean {
    const g = this.got;
    return rejectEach(options, {
      [IpcpOpt.IpAddress]: () => {
        g.negAddr = false;
        if (g.addr === 0) {
          this.ourProblem ??= 'peer rejected the IP-Address option and we have no address';
          const hint = this.failureHint();
          this.fatal = `IPCP: peer rejected the IP-Address option and we have no local address${hint !== null ? ` (${hint})` : ''}`;
        }
      },
      [IpcpOpt.PrimaryDns]: () => {
        g.negDns1 = false;
      },
      [IpcpOpt.SecondaryDns]: () => {
        g.negDns2 = false;
      },
    });
  }

  failureHint(): string | null {
    if (this.refusedLocal !== 0) {
      const ours = this.got.addr === 0 ? 'no address' : formatIpv4(this.got.addr);
      return `peer offers local address ${formatIpv4(this.refusedLocal)}, not accepted; we have ${ours}`;
    }
    return null;
  }

  // ---- the peer's request ------------------------------------------------------------------

  private sawAddr = false;

  beginPeerRequest(): void {
    this.his.clear();
    this.sawAddr = false;
  }

  onPeerOption(o: ParsedOption): OptionVerdict {
    if (isOption(o, ipAddressCodec)) {
      this.sawAddr = true;
      const v = o.value;
      const want = this.config.peer >>> 0;
      if (
        v !== 0 &&
        (v === want || (v !== this.got.addr && this.config.acceptPeer(formatIpv4(v))))
      ) {
        this.his.negAddr = true;
        this.his.addr = v;
        this.peerProblem = null;
        return ACK;
      }
      const assign = want !== 0 ? ` (we assign ${formatIpv4(want)})` : '';
      if (v === 0) {
        // Asking for an address is normal when we have one to give (the Nak below).
        this.peerProblem =
          want !== 0
            ? `peer does not take the address we assign, ${formatIpv4(want)}`
            : 'peer asks for an address and we have none to give (no peer address is set)';
      } else if (v === this.got.addr) {
        this.peerProblem = `peer asks for our own address ${formatIpv4(v)}${assign}`;
      } else {
        this.peerProblem = `peer address ${formatIpv4(v)} is outside accept-peer${assign}`;
      }
      // We know what the peer should use: tell it. Otherwise we cannot help.
      if (want !== 0) return nak(ipAddressCodec.emit(want));
      return REJECT;
    }
    if (isOption(o, primaryDnsCodec)) return this.judgeDns(true, o.value);
    if (isOption(o, secondaryDnsCodec)) return this.judgeDns(false, o.value);
    // IP-Addresses (1), VJ (2), NBNS (130/132), anything else.
    return REJECT;
  }

  /** RFC 1877: hand out our DNS (one address serves both, like pppd); none = Reject. */
  private judgeDns(primary: boolean, v: number): OptionVerdict {
    const dns = this.config.dns;
    if (dns.length === 0) return REJECT;
    const offer = primary ? dns[0] : (dns[1] ?? dns[0]);
    if (primary) {
      this.his.negDns1 = true;
      this.his.dns1 = v;
    } else {
      this.his.negDns2 = true;
      this.his.dns2 = v;
    }
    return v === offer ? ACK : nak(ipAddressCodec.emit(offer));
  }

  /** RFC 1661 §5.3: Nak an address into a request that lacks one, when we have one for the peer. */
  missingOptions(nakAllowed: boolean): RawOption[] {
    if (!this.sawAddr && nakAllowed && this.config.peer !== 0) {
      return [rawOption(ipAddressCodec, this.config.peer >>> 0)];
    }
    return [];
  }

  /** Our negotiated address (0 if unknown). */
  get localAddress(): number {
    return this.got.addr;
  }

  /** The peer's address: what we acked, else what we were configured with (0 if unknown). */
  get peerAddress(): number {
    return this.his.negAddr ? this.his.addr : this.config.peer >>> 0;
  }

  /** DNS servers the peer gave us (non-zero, de-duplicated, primary first). */
  get dnsServers(): string[] {
    const out: string[] = [];
    const g = this.got;
    if (g.negDns1 && g.dns1 !== 0) out.push(formatIpv4(g.dns1));
    if (g.negDns2 && g.dns2 !== 0 && !(g.negDns1 && g.dns2 === g.dns1))
      out.push(formatIpv4(g.dns2));
    return out;
  }
}
