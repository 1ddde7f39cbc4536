/**
 * Outgoing SSH packets from a reused slab instead of a fresh Buffer each.
 *
 * ssh2 (1.x) builds every outgoing packet in a buffer of its own: `cipher.allocPacket(n)`
 * returns `Buffer.allocUnsafe(packet + MAC)`, the payload is copied in, the cipher seals it
 * in place and the socket writes it. For a tunnel that is one allocation of the data's size
 * per channel write; the garbage is freed only when V8 next collects, and meanwhile glibc's
 * heap grows by tens of MB at full load (bench/tunnel/RESULTS.md, "RSS / idle RTT").
 *
 * For the AES-GCM ciphers (ssh2's first choice, OpenSSH's `aes*-gcm@openssh.com`) this
 * hands out packets from one slab instead, laid out as RFC 4253 §6 and RFC 5647 §7 say:
 * uint32 packet_length (in clear, the AAD), byte padding_length, payload, random padding
 * (≥ 4 octets, padding_length‖payload‖padding a multiple of 16), then room for the 16-octet
 * tag that the cipher writes. A slab region is reused only once the socket has nothing
 * queued (`writableLength === 0`): every packet handed to it before has been written out
 * (loopback TCP usually takes a write whole and at once). While the socket is behind,
 * packets keep being cut from fresh parts of the slab, and a full slab is left to the
 * socket (and the GC) and replaced, so a queued packet is never overwritten.
 *
 * Other ciphers, and any ssh2 whose internals do not look as expected, keep ssh2's own
 * allocation (the pool is then simply not installed). Rekeying makes ssh2 create a new
 * cipher object: the pool follows `_cipher` through an accessor.
 */
import { randomFillSync } from 'node:crypto';

/** Slab size: many coalesced writes (ssh2 cuts channel data at the peer's 32 KiB packets). */
export const PACKET_SLAB_BYTES = 256 * 1024;
const GCM_TAG = 16;
const GCM_BLOCK = 16;

interface CipherLike {
  allocPacket(payloadLen: number): Buffer;
  constructor: { name: string };
}
interface ProtocolLike {
  _cipher?: CipherLike;
}
interface SocketLike {
  writableLength?: number;
}

/** Counters of one pool: packets cut from a slab, slabs allocated, packets left to ssh2's own allocation. */
export interface PacketPoolStats {
  pooled: number;
  slabs: number;
  oversize: number;
}

export class PacketSlab {
  private slab: Buffer;
  private off = 0;
  readonly stats: PacketPoolStats = { pooled: 0, slabs: 1, oversize: 0 };

  constructor(
    /** True when every packet handed out before has been written (nothing queued). */
    private readonly idle: () => boolean,
    private readonly slabBytes = PACKET_SLAB_BYTES,
  ) {
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /** `bytes` octets that stay untouched until the socket has written them. */
  take(bytes: number): Buffer {
    // Larger than a quarter of the slab: on its own (none are in practice: ≤ 32 KiB + header).
    if (bytes > this.slabBytes / 4) {
      this.stats.oversize++;
      return Buffer.allocUnsafe(bytes);
    }
    if (this.idle()) this.off = 0;
    if (this.off + bytes > this.slabBytes) {
      // The old slab may still be queued in the socket: leave it there, start a new one.
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.stats.slabs++;
      this.off = 0;
    }
    const p = this.slab.subarray(this.off, this.off + bytes);
    this.off += (bytes + 15) & ~15;
    this.stats.pooled++;
    return p;
  }
}

/** An AES-GCM packet for `payloadLen` octets of payload, from `slab` (RFC 4253 §6, RFC 5647 §7.2). */
export function gcmPacket(slab: PacketSlab, payloadLen: number): Buffer {
  let pktLen = 4 + 1 + payloadLen;
  let padLen = GCM_BLOCK - ((pktLen - 4) % GCM_BLOCK);
  if (padLen < 4) padLen += GCM_BLOCK;
  pktLen += padLen;
  const packet = slab.take(pktLen + GCM_TAG);
  packet.writeUInt32BE(pktLen - 4, 0);
  packet[4] = padLen;
  randomFillSync(packet, 5 + payloadLen, padLen);
  return packet;
}

const GCM_CIPHER_CLASS = 'AESGCMCipherBinding';
const installed = new WeakSet<object>();
/** The pool of each protocol object it was installed on (a second channel shares it). */
const pools = new WeakMap<object, PacketPoolStats>();

/**
 * Installs the pool on an ssh2 client's protocol (its current and future ciphers).
 * Returns the pool's stats, or null when ssh2's internals are not what this expects.
 */
export function installPacketPool(client: unknown): PacketPoolStats | null {
  const c = client as { _protocol?: ProtocolLike; _sock?: SocketLike };
  const proto = c._protocol;
  const sock = c._sock;
  if (!proto || !sock || typeof sock.writableLength !== 'number') return null;
  const existing = pools.get(proto);
  if (existing) return existing;
  const current = proto._cipher;
  if (!current || typeof current.allocPacket !== 'function') return null;
  const desc = Object.getOwnPropertyDescriptor(proto, '_cipher');
  if (!desc?.writable || !desc.configurable) return null;
  const slab = new PacketSlab(() => sock.writableLength === 0);
  const adopt = (cipher: CipherLike | undefined) => {
    if (cipher && cipher.constructor?.name === GCM_CIPHER_CLASS && !installed.has(cipher)) {
      installed.add(cipher);
      cipher.allocPacket = (payloadLen: number) => gcmPacket(slab, payloadLen);
    }
  };
  adopt(current);
  let value = current;
  Object.defineProperty(proto, '_cipher', {
    configurable: true,
    enumerable: desc.enumerable,
    get: () => value,
    set: (next: CipherLike) => {
      value = next;
      adopt(next);
    },
  });
  pools.set(proto, slab.stats);
  return slab.stats;
}
