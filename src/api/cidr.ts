/**
 * IPv4 address matchers for `acceptLocal` / `acceptPeer`: a CIDR list
 * (`['10.64.0.0/16', '192.0.2.7']`) or a predicate. Pure, no dependencies.
 */
import { inAnyPrefix4, type Prefix4, parseIpv4, parsePrefix4 } from '../wire/ip.js';
import { invalidOptions } from './errors.js';

/** A predicate over dotted-quad IPv4 addresses. */
export type AddressPredicate = (addr: string) => boolean;

/** CIDR prefixes (`a.b.c.d/n`, a bare address means /32) or a predicate. */
export type AddressFilter = readonly string[] | AddressPredicate;

function parsePrefix(text: string, name: string): Prefix4 {
  const p = parsePrefix4(text);
  if (p === null) throw invalidOptions(`${name}: not an IPv4 prefix: ${JSON.stringify(text)}`);
  return p;
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
    return a !== null && inAnyPrefix4(prefixes, a);
  };
}
