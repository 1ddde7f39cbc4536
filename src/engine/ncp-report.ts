/**
 * What the engine says when an NCP opens or fails: pppd's log lines, the `ipv4-up` /
 * `ipv6-up` events, and the failure text naming the option and address at fault.
 */

import type { IpcpPolicy } from '../ncp/ipcp-policy.js';
import { formatLinkLocal, formatLinkLocalPppd } from '../ncp/ipv6.js';
import type { Ipv6cpPolicy } from '../ncp/ipv6cp-policy.js';
import { formatIpv4 } from '../ppp/ipv4.js';
import type { EngineEvent } from './events.js';

/** An NCP that opened: log lines and the event, or the reason to close it again. */
export type NcpUpReport =
  | { ok: true; lines: string[]; event: EngineEvent }
  | { ok: false; closeReason: string };

/** IPCP opened: `ipv4-up`, or pppd's texts when an address is missing. */
export function ipcpUpReport(p: IpcpPolicy): NcpUpReport {
  const local = p.localAddress;
  const peer = p.peerAddress;
  const why = p.problem !== null ? ` (${p.problem})` : '';
  if (local === 0) return { ok: false, closeReason: `Could not determine local IP address${why}` };
  if (peer === 0) return { ok: false, closeReason: `Could not determine remote IP address${why}` };
  const dns = p.dnsServers;
  const lines = [`local  IP address ${formatIpv4(local)}`, `remote IP address ${formatIpv4(peer)}`];
  if (dns.length > 0) lines.push(`primary   DNS address ${dns[0]}`);
  if (dns.length > 1) lines.push(`secondary DNS address ${dns[1]}`);
  return {
    ok: true,
    lines,
    event: { type: 'ipv4-up', local: formatIpv4(local), peer: formatIpv4(peer), dns },
  };
}

/** IPv6CP opened: the link-local addresses and `ipv6-up`. */
export function ipv6cpUpReport(p: Ipv6cpPolicy): NcpUpReport {
  const localId = Uint8Array.from(p.localId);
  const peerId = Uint8Array.from(p.peerId);
  return {
    ok: true,
    lines: [
      `local  LL address ${formatLinkLocalPppd(localId)}`,
      `remote LL address ${formatLinkLocalPppd(peerId)}`,
    ],
    event: {
      type: 'ipv6-up',
      localId,
      peerId,
      local: formatLinkLocal(localId),
      peer: formatLinkLocal(peerId),
    },
  };
}

/**
 * "IPCP failed: …" for NCP `name` that finished with `reason`; `problem` (the policy's
 * finding, naming option and address) replaces the reason when known.
 */
export function ncpFailureText(name: string, reason: string, problem: string | null): string {
  let text = problem ?? reason;
  if (problem === null) {
    if (text.startsWith(`${name}: `)) text = text.slice(name.length + 2);
    else if (text.startsWith(`${name} `)) text = text.slice(name.length + 1);
  }
  return `${name} failed: ${text}`;
}
