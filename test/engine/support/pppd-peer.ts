/**
 * A pppd 2.4.9-like peer with default options (as in interop/defaults):
 * LCP `<asyncmap 0x0> <magic> <pcomp> <accomp>`, then CCP `<deflate 15>
 * <bsd v1 15>`, IPCP `<compress VJ 0f 01> <addr …>` and IPv6CP. It acks
 * whatever LCP option it knows and Configure-Rejects the others (as pppd's
 * lcp_reqci does, e.g. our RFC 2153 Vendor-Specific GSO option), drops VJ
 * when we reject it, gives up CCP/IPv6CP when we Protocol-Reject them, and
 * answers echoes.
 */

import { fromHex, u32Bytes } from '../../../src/ppp/bytes.js';
import { Code } from '../../../src/ppp/codes.js';
import type { RawOption } from '../../../src/ppp/options.js';
import { Protocol } from '../../../src/ppp/protocols.js';
import { options, ScriptedPeer } from './scripted-peer.js';

export interface PppdPeerOptions {
  magic: number;
  addr: string;
  ipv6Id: string;
  ccp: boolean;
}

const EMPTY = new Uint8Array(0);

/** LCP options pppd 2.4.9 negotiates with its defaults: mru, asyncmap, auth, magic, pcomp, accomp. */
const PPPD_LCP_TYPES = new Set([1, 2, 3, 5, 7, 8]);

export function pppdPeer(o: PppdPeerOptions): ScriptedPeer & { state: Record<string, unknown> } {
  const state = {
    reqSent: true,
    lcpAckedUs: false,
    lcpGotAck: false,
    vj: true,
    ipcpReq: [] as RawOption[],
    started: false,
  };
  const addr = Uint8Array.from(o.addr.split('.').map(Number));
  const lcpReq: RawOption[] = [
    { type: 2, data: u32Bytes(0) },
    { type: 5, data: u32Bytes(o.magic) },
    { type: 7, data: EMPTY },
    { type: 8, data: EMPTY },
  ];
  const ipcpOptions = (): RawOption[] =>
    state.vj
      ? [
          { type: 2, data: fromHex('00 2d 0f 01') },
          { type: 3, data: addr },
        ]
      : [{ type: 3, data: addr }];
  const startNcps = (p: ScriptedPeer) => {
    if (state.started) return;
    state.started = true;
    p.negotiated();
    if (o.ccp)
      p.send(
        Protocol.CCP,
        Code.ConfReq,
        p.nextId(Protocol.CCP),
        fromHex('1a 04 78 00 18 04 78 00 15 03 2f'),
      );
    p.sendOptions(Protocol.IPCP, Code.ConfReq, p.nextId(Protocol.IPCP), ipcpOptions());
    p.sendOptions(Protocol.IPV6CP, Code.ConfReq, p.nextId(Protocol.IPV6CP), [
      { type: 1, data: fromHex(o.ipv6Id) },
    ]);
  };
  const peer = new ScriptedPeer((p, protocol, pkt) => {
    if (pkt === null) return;
    if (protocol === Protocol.LCP) {
      switch (pkt.code) {
        case Code.ConfReq:
          {
            if (!state.reqSent)
              p.sendOptions(Protocol.LCP, Code.ConfReq, p.nextId(Protocol.LCP), lcpReq);
            const unknown = options(pkt.data).filter((x) => !PPPD_LCP_TYPES.has(x.type));
            if (unknown.length > 0) {
              p.sendOptions(Protocol.LCP, Code.ConfRej, pkt.id, unknown);
              break;
            }
            p.send(Protocol.LCP, Code.ConfAck, pkt.id, pkt.data);
            state.lcpAckedUs = true;
          }
          break;
        case Code.ConfAck:
          state.lcpGotAck = true;
          break;
        case Code.EchoReq: {
          const d = Uint8Array.from(pkt.data);
          d.set(u32Bytes(o.magic), 0);
          p.send(Protocol.LCP, Code.EchoRep, pkt.id, d);
          break;
        }
        case Code.ProtRej:
          break;
        case Code.TermReq:
          p.send(Protocol.LCP, Code.TermAck, pkt.id, EMPTY);
          break;
      }
      if (state.lcpAckedUs && state.lcpGotAck) startNcps(p);
      return;
    }
    if (protocol === Protocol.IPCP || protocol === Protocol.IPV6CP) {
      if (pkt.code === Code.ConfReq) p.send(protocol, Code.ConfAck, pkt.id, pkt.data);
      if (pkt.code === Code.ConfRej && protocol === Protocol.IPCP) {
        if (options(pkt.data).some((x) => x.type === 2)) state.vj = false;
        p.sendOptions(Protocol.IPCP, Code.ConfReq, p.nextId(Protocol.IPCP), ipcpOptions());
      }
      if (pkt.code === Code.TermReq) p.send(protocol, Code.TermAck, pkt.id, EMPTY);
    }
  });
  // pppd (not silent) speaks first.
  peer.sendOptions(Protocol.LCP, Code.ConfReq, peer.nextId(Protocol.LCP), lcpReq);
  return Object.assign(peer, { state });
}
