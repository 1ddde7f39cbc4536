/** IPv4 dotted-quad helpers for IPCP (RFC 1332 §3.3 carries addresses as 4 octets): the one parser lives in src/wire/ip.ts. */
export { formatIpv4, parseIpv4 } from '../wire/ip.js';
