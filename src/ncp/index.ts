/** The network control protocols: IPCP (RFC 1332/1877) and IPv6CP (RFC 5072), their option codecs and policies. */

export * from './ipcp-options.js';
export * from './ipcp-policy.js';
export * from './ipv6.js';
export * from './ipv6cp-options.js';
export * from './ipv6cp-policy.js';
export * from './printers.js';
