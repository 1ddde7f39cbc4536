/**
 * IPv4 address matchers for `acceptLocal` / `acceptPeer`: a CIDR list
 * (`['10.64.0.0/16', '192.0.2.7']`) or a predicate. Pure, no dependencies.
 */
import { parseIpv4 } from '../ppp/ipv4.js';
import { invalidOptions } from './errors.js';

/** A predicate over dotted-quad IPv4 addresses. */
export type AddressPredicate = (addr: string) => boolean;

/** CIDR prefixes (`a.b.c.d/n`, a bare address means /32) or a predicate. */
export type AddressFilter = readonly string[] | AddressPredicate;

interface Prefix {
  net: number;
  mask: number;
}

function parsePrefix(text: string, name: string): Prefix {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? '32' : text.slice(slash + 1);
  const addr = parseIpv4(addrText);
  const bits = /^\d{1,2}$/.test(bitsText) ? Number(bitsText) : -1;
  if (addr === null || bits < 0 || bits > 32)
    throw invalidOptions(`${name}: not an IPv4 prefix: ${JSON.stringify(text)}`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { net: (addr & mask) >>> 0, mask };
}

/**
 * Turns an {@link AddressFilter} into a predicate. Throws INVALID_OPTIONS on a bad prefix.
 * @param filter - CIDR list or predicate
 * @param name - option name for error messages
 */
export function addressMatcher(filter: AddressFilter, name: string): AddressPredicate {
  if (typeof filter === 'function') return filter;
  if (!Array.isArray(filter))
    throw invalidOptions(`${name} must be a list of IPv4 prefixes or a function`);
  const prefixes = filter.map((p, i) => {
    if (typeof p !== 'string') throw invalidOptions(`${name}[${i}] must be a string`);
    return parsePrefix(p, `${name}[${i}]`);
  });
  return (addr) => {
    const a = parseIpv4(addr);
    if (a === null) return false;
    for (const p of prefixes) if ((a & p.mask) >>> 0 === p.net) return true;
    return false;
  };
}
