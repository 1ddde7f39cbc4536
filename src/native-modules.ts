/**
 * The native packages (ssh2 with its optional cpu-features, netlink, koffi), loaded on
 * first use, never at import: `import 'ts-vpn'` for a PppLink over a socket loads none
 * of them (docs/LIBRARY.md; test/api/lazy-load.test.ts checks the installed package).
 * All three are CommonJS, so a synchronous require() keeps their callers synchronous.
 */
import { createRequire } from 'node:module';

type Ssh2 = typeof import('ssh2');
type Netlink = typeof import('netlink');
type Koffi = typeof import('koffi');

const require = createRequire(import.meta.url);
let ssh2Module: Ssh2 | undefined;
let netlinkModule: Netlink | undefined;
let koffiModule: Koffi | undefined;

/** The ssh2 package (loads it on the first call). */
export function ssh2(): Ssh2 {
  ssh2Module ??= require('ssh2') as Ssh2;
  return ssh2Module;
}

/** The netlink package (loads it on the first call). */
export function netlink(): Netlink {
  netlinkModule ??= require('netlink') as Netlink;
  return netlinkModule;
}

/** The koffi package (loads it on the first call). */
export function koffi(): Koffi {
  koffiModule ??= require('koffi') as Koffi;
  return koffiModule;
}
