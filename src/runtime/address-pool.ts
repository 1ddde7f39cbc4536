/**
 * IPv4 address pool shared by concurrent `ts-vpn serve` sessions on one server.
 *
 * Each lease is a file `<dir>/<address>` created with O_EXCL holding the owner's pid;
 * a lease whose pid is gone is stale and is taken over. The first host address of
 * the pool is skipped when it is the server's own PPP address.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../coded-error.js';
import { formatIpv4, type Prefix4, parseIpv4, parsePrefix4, prefix4Contains } from '../wire/ip.js';
import { claimPidFile, releasePidFile } from './pid-file.js';

export class PoolExhaustedError extends CodedError<'POOL_EXHAUSTED'> {
  override readonly name = 'PoolExhaustedError';
  constructor(message: string) {
    super('POOL_EXHAUSTED', message);
  }
}

export class AddressPool {
  private readonly dir: string;
  private readonly first: number;
  private readonly last: number;
  private readonly reserved: Set<number>;
  private readonly prefix: Prefix4;

  /**
   * `reserved` holds addresses never handed out (e.g. the server's own).
   * @throws Error when `cidr` is not an IPv4 prefix (config validated it before)
   */
  constructor(cidr: string, dir: string, reserved: string[] = []) {
    const p = parsePrefix4(cidr);
    if (p === null) throw new Error(`address pool: not an IPv4 prefix: ${JSON.stringify(cidr)}`);
    this.prefix = p;
    const network = p.net;
    const size = 2 ** (32 - p.bits);
    // Skip network and broadcast addresses for pools larger than /31.
    this.first = size > 2 ? network + 1 : network;
    this.last = size > 2 ? network + size - 2 : network + size - 1;
    this.dir = dir;
    this.reserved = new Set();
    for (const r of reserved) {
      const a = parseIpv4(r);
      if (a !== null) this.reserved.add(a);
    }
  }

  /** True when `addr` lies in the pool's prefix. */
  contains(addr: string): boolean {
    const a = parseIpv4(addr);
    return a !== null && prefix4Contains(this.prefix, a);
  }

  /** Leases a free address for `pid`, preferring `wanted` if it is free and in the pool. */
  lease(pid: number = process.pid, wanted?: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (wanted) {
      const w = parseIpv4(wanted) ?? -1;
      if (w >= this.first && w <= this.last && !this.reserved.has(w) && this.tryTake(w, pid))
        return wanted;
    }
    for (let a = this.first; a <= this.last; a++) {
      if (this.reserved.has(a)) continue;
      if (this.tryTake(a, pid)) return formatIpv4(a);
    }
    throw new PoolExhaustedError(
      `address pool exhausted: every address is leased to a running session`,
    );
  }

  release(addr: string, pid: number = process.pid): void {
    releasePidFile(join(this.dir, addr), pid);
  }

  private tryTake(a: number, pid: number): boolean {
    return claimPidFile(join(this.dir, formatIpv4(a)), pid);
  }
}
