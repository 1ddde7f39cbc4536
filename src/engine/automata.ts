/** Builds the engine's LCP, IPCP and IPv6CP automata and their policies from resolved settings. */

import { LcpPolicy } from '../lcp/policy.js';
import { IpcpPolicy } from '../ncp/ipcp-policy.js';
import { Ipv6cpPolicy } from '../ncp/ipv6cp-policy.js';
import { Fsm, type FsmHost } from '../ppp/fsm.js';
import { GSO_MAX_PACKET } from './gso.js';
import type { ResolvedSettings } from './settings.js';

/** The automata of one engine; an NCP and its policy are null when disabled. */
export interface Automata {
  lcpPolicy: LcpPolicy;
  lcp: Fsm;
  ipcpPolicy: IpcpPolicy | null;
  ipcp: Fsm | null;
  ipv6cpPolicy: Ipv6cpPolicy | null;
  ipv6cp: Fsm | null;
}

/** The automata for settings `o`, reporting to `host`. */
export function buildAutomata(o: ResolvedSettings, host: FsmHost): Automata {
  const l = o.lcp;
  const a = o.auth;
  const lcpPolicy = new LcpPolicy({
    mru: l.mru,
    accm: l.accm,
    pfc: l.pfc,
    acfc: l.acfc,
    magic: l.magic,
    requireAuth: a.require,
    canPap: a.user !== null,
    canChap: a.user !== null,
    loopbackFail: l.loopbackFail,
    // A far end known to be stock pppd rejects the private option: do not ask.
    gso: o.gso && o.peerKind !== 'pppd',
    gsoMaxPacket: GSO_MAX_PACKET,
    random32: o.random32,
  });
  const fsmConfig = {
    restartMs: l.restartMs,
    maxConfigure: l.maxConfigure,
    maxTerminate: l.maxTerminate,
    maxFailure: l.maxFailure,
  };
  const lcp = new Fsm(
    lcpPolicy,
    host,
    { ...fsmConfig, passive: l.passive, silent: l.silent },
    lcpPolicy,
  );
  let ipcpPolicy: IpcpPolicy | null = null;
  let ipcp: Fsm | null = null;
  if (o.ipcp !== null) {
    ipcpPolicy = new IpcpPolicy(o.ipcp);
    ipcp = new Fsm(ipcpPolicy, host, { ...fsmConfig, maxFailure: o.ipcp.maxFailure });
  }
  let ipv6cpPolicy: Ipv6cpPolicy | null = null;
  let ipv6cp: Fsm | null = null;
  if (o.ipv6cp !== null) {
    ipv6cpPolicy = new Ipv6cpPolicy({ ...o.ipv6cp, random32: o.random32 });
    ipv6cp = new Fsm(ipv6cpPolicy, host, fsmConfig);
  }
  return { lcpPolicy, lcp, ipcpPolicy, ipcp, ipv6cpPolicy, ipv6cp };
}
