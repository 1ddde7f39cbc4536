/**
 * The gateway's client addresses, in memory: one process owns every session,
 * so no lease files are needed. Named pools (gateway.yaml `pool`/`pools`), each
 * a range first..last; reserved addresses (the gateway's own, users' fixed
 * addresses) are never handed out from a pool. Fixed addresses are claimed
 * through the same object, so two sessions never share an address.
 */
import type { GatewayPool } from '../config/gateway.js';
import { parseIpv4, formatIpv4 as toText } from '../wire/ip.js';

function toInt(addr: string): number {
  return parseIpv4(addr) ?? 0;
}

interface Range {
  first: number;
  last: number;
  /** Where the next search starts (round robin: a released address is not reused at once). */
  next: number;
  free: number;
}

export class AddressBook {
  private readonly ranges = new Map<string, Range>();
  /** Address → owner (a session id). */
  private readonly taken = new Map<number, string>();
  private reserved = new Set<number>();

  constructor(pools: readonly GatewayPool[], reserved: readonly string[] = []) {
    for (const p of pools) {
      const first = toInt(p.first);
      const last = toInt(p.last);
      this.ranges.set(p.name, { first, last, next: first, free: 0 });
    }
    this.setReserved(reserved);
  }

  /**
   * Sets the reserved addresses (the gateway's own and the users' fixed ones; again
   * after a reload) and counts each pool's free addresses: neither reserved nor held.
   * An address a session holds stays its own until released; a newly reserved one is
   * then no longer leased from the pool.
   */
  setReserved(reserved: readonly string[]): void {
    this.reserved = new Set(reserved.map(toInt));
    const unavailable = new Set([...this.reserved, ...this.taken.keys()]);
    for (const r of this.ranges.values()) {
      r.free = r.last - r.first + 1;
      for (const a of unavailable) if (a >= r.first && a <= r.last) r.free--;
    }
  }

  /** Free addresses left in a pool. */
  free(pool: string): number {
    return this.ranges.get(pool)?.free ?? 0;
  }

  /** Addresses held, for status and leak checks. */
  get size(): number {
    return this.taken.size;
  }

  owner(addr: string): string | undefined {
    return this.taken.get(toInt(addr));
  }

  private rangeOf(n: number): Range | undefined {
    for (const r of this.ranges.values()) if (n >= r.first && n <= r.last) return r;
    return undefined;
  }

  /**
   * Takes `wanted` if it is in `pool`, not reserved and free; else the next free
   * address of the pool. Null when the pool is exhausted.
   */
  lease(pool: string, owner: string, wanted?: string): string | null {
    const r = this.ranges.get(pool);
    if (!r || r.free <= 0) return null;
    if (wanted !== undefined) {
      const w = toInt(wanted);
      if (w >= r.first && w <= r.last && !this.reserved.has(w) && !this.taken.has(w)) {
        this.take(w, owner, r);
        return wanted;
      }
    }
    const size = r.last - r.first + 1;
    for (let i = 0; i < size; i++) {
      const a = r.first + ((r.next - r.first + i) % size);
      if (this.reserved.has(a) || this.taken.has(a)) continue;
      this.take(a, owner, r);
      r.next = a === r.last ? r.first : a + 1;
      return toText(a);
    }
    return null;
  }

  /** Claims a fixed address (a user's `address`). False when another session holds it. */
  claim(addr: string, owner: string): boolean {
    const n = toInt(addr);
    const holder = this.taken.get(n);
    if (holder !== undefined) return holder === owner;
    this.taken.set(n, owner);
    const r = this.rangeOf(n);
    if (r && !this.reserved.has(n)) r.free--;
    return true;
  }

  /** Gives an address back (only its owner can). */
  release(addr: string, owner: string): void {
    const n = toInt(addr);
    if (this.taken.get(n) !== owner) return;
    this.taken.delete(n);
    const r = this.rangeOf(n);
    if (r && !this.reserved.has(n)) r.free++;
  }

  /** True when `addr` lies in pool `pool`. */
  inPool(pool: string, addr: string): boolean {
    const r = this.ranges.get(pool);
    const n = toInt(addr);
    return r !== undefined && n >= r.first && n <= r.last;
  }

  private take(n: number, owner: string, r: Range): void {
    this.taken.set(n, owner);
    r.free--;
  }
}
