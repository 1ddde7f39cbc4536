/**
 * PAP (RFC 1334) and CHAP-MD5 (RFC 1994), both roles, sans-IO.
 * See docs/ARCHITECTURE.md (`src/auth` contract).
 */

export * from './chap.js';
export { formatChap, formatPap, pppdString } from './format.js';
export { md5 } from './md5.js';
export * from './packet.js';
export * from './pap.js';
