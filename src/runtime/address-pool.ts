/**
 * IPv4 address pool shared by concurrent `ts-vpn serve` sessions on one server.
 *
 * Each lease is a file `<dir>/<address>` created with O_EXCL holding the owner's pid;
 * a lease whose pid is gone is stale and is taken over. The first host address of
 * the pool is skipped when it is the server's own PPP address.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { claimPidFile, releasePidFile } from './pid-file.js';

export function ipv4ToInt(addr: string): number {
  const parts = addr.split('.').map((p) => Number.parseInt(p, 10));
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "a.b.c.d/len" into network and length. */
export function parseCidr4(cidr: string): { network: number; prefix: number } {
  const [addr, len] = cidr.split('/');
  const prefix = Number.parseInt(len ?? '32', 10);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ipv4ToInt(addr!) & mask) >>> 0, prefix };
}

export function cidr4Contains(cidr: string, addr: string): boolean {
  const { network, prefix } = parseCidr4(cidr);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (ipv4ToInt(addr) & mask) >>> 0 === network;
}

export class PoolExhaustedError extends Error {
  readonly code = 'POOL_EXHAUSTED';
}

export class AddressPool {
  private readonly dir: string;
  private readonly first: number;
  private readonly last: number;
  private readonly reserved: Set<number>;

  /** `reserved` holds addresses never handed out (e.g. the server's own). */
  constructor(cidr: string, dir: string, reserved: string[] = []) {
    const { network, prefix } = parseCidr4(cidr);
    const size = 2 ** (32 - prefix);
    // Skip network and broadcast addresses for pools larger than /31.
    this.first = size > 2 ? network + 1 : network;
    this.last = size > 2 ? network + size - 2 : network + size - 1;
    this.dir = dir;
    this.reserved = new Set(reserved.map(ipv4ToInt));
  }

  /** Leases a free address for `pid`, preferring `wanted` if it is free and in the pool. */
  lease(pid: number = process.pid, wanted?: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (wanted) {
      const w = ipv4ToInt(wanted);
      if (w >= this.first && w <= this.last && !this.reserved.has(w) && this.tryTake(w, pid))
        return wanted;
    }
    for (let a = this.first; a <= this.last; a++) {
      if (this.reserved.has(a)) continue;
      if (this.tryTake(a, pid)) return intToIpv4(a);
    }
    throw new PoolExhaustedError(
      `address pool exhausted: every address is leased to a running session`,
    );
  }

  release(addr: string, pid: number = process.pid): void {
    releasePidFile(join(this.dir, addr), pid);
  }

  private tryTake(a: number, pid: number): boolean {
    return claimPidFile(join(this.dir, intToIpv4(a)), pid);
  }
}
