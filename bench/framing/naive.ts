/**
 * Baseline for the framing benchmark: a straightforward, reasonable RFC 1662 framer and
 * deframer that handle one octet at a time with a 256-entry escape table and a 256-entry
 * FCS table (RFC 1662 §C.2), writing into preallocated buffers. This is how most PPP
 * stacks do it; src/hdlc must beat it. Bench-only: nothing in src/ imports this.
 */

const FCS_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

function escapeTable(accm: number): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 32; c++) if ((accm >>> c) & 1) t[c] = 1;
  t[0x7e] = 1;
  t[0x7d] = 1;
  return t;
}

export interface NaiveOptions {
  accm: number;
  acfc: boolean;
  pfc: boolean;
}

export class NaiveFramer {
  private readonly table: Uint8Array;
  private readonly lcpTable: Uint8Array;
  private readonly acfc: boolean;
  private readonly pfc: boolean;
  private buf: Uint8Array;
  private len: number;
  private fcs: number;

  constructor(opts: NaiveOptions) {
    this.table = escapeTable(opts.accm);
    this.lcpTable = escapeTable(0xffffffff);
    this.acfc = opts.acfc;
    this.pfc = opts.pfc;
    this.buf = new Uint8Array(64 * 1024);
    this.len = 0;
    this.fcs = 0xffff;
  }

  writeFrame(protocol: number, info: Uint8Array, linkDefaults = false): boolean {
    const need = this.len + 2 * (info.length + 6) + 2;
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const t = linkDefaults ? this.lcpTable : this.table;
    if (this.len === 0) this.buf[this.len++] = 0x7e;
    this.fcs = 0xffff;
    if (linkDefaults || !this.acfc) {
      this.put(0xff, t);
      this.put(0x03, t);
    }
    if (!linkDefaults && this.pfc && protocol < 0x100) {
      this.put(protocol, t);
    } else {
      this.put(protocol >>> 8, t);
      this.put(protocol & 0xff, t);
    }
    // The per-octet loop, written out: FCS update, escape check, store.
    const buf = this.buf;
    let o = this.len;
    let fcs = this.fcs;
    for (let i = 0; i < info.length; i++) {
      const b = info[i];
      fcs = (fcs >>> 8) ^ FCS_TABLE[(fcs ^ b) & 0xff];
      if (t[b] !== 0) {
        buf[o++] = 0x7d;
        buf[o++] = b ^ 0x20;
      } else {
        buf[o++] = b;
      }
    }
    this.len = o;
    const f = fcs ^ 0xffff;
    this.put(f & 0xff, t);
    this.put(f >>> 8, t);
    this.buf[this.len++] = 0x7e;
    return true;
  }

  get pendingBytes(): number {
    return this.len;
  }

  take(): Uint8Array | null {
    if (this.len === 0) return null;
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }

  private put(b: number, t: Uint8Array): void {
    this.fcs = (this.fcs >>> 8) ^ FCS_TABLE[(this.fcs ^ b) & 0xff];
    if (t[b] !== 0) {
      this.buf[this.len++] = 0x7d;
      this.buf[this.len++] = b ^ 0x20;
    } else {
      this.buf[this.len++] = b;
    }
  }
}

export class NaiveDeframer {
  readonly stats: Record<
    'framesOk' | 'badFcs' | 'tooLong' | 'tooShort' | 'aborted' | 'badHeader',
    number
  >;
  private readonly onFrame: (protocol: number, info: Uint8Array) => void;
  private readonly table: Uint8Array;
  private readonly maxFrame: number;
  private readonly buf: Uint8Array;
  private len: number;
  private fcs: number;
  private escaped: boolean;
  private tooLong: boolean;

  constructor(
    onFrame: (protocol: number, info: Uint8Array) => void,
    opts: { accm: number; maxInfo: number },
  ) {
    this.onFrame = onFrame;
    // Receive side: flag and escape are special; mapped control characters are discarded.
    this.table = escapeTable(opts.accm);
    this.maxFrame = opts.maxInfo + 6;
    this.buf = new Uint8Array(this.maxFrame);
    this.len = 0;
    this.fcs = 0xffff;
    this.escaped = false;
    this.tooLong = false;
    this.stats = { framesOk: 0, badFcs: 0, tooLong: 0, tooShort: 0, aborted: 0, badHeader: 0 };
  }

  push(chunk: Uint8Array): void {
    const t = this.table;
    const buf = this.buf;
    const max = this.maxFrame;
    let len = this.len;
    let fcs = this.fcs;
    let escaped = this.escaped;
    for (let i = 0; i < chunk.length; i++) {
      let b = chunk[i];
      if (t[b] !== 0) {
        if (b === 0x7e) {
          if (escaped) this.stats.aborted++;
          else if (this.tooLong) this.stats.tooLong++;
          else if (len > 0) this.endFrame(len, fcs);
          len = 0;
          fcs = 0xffff;
          escaped = false;
          this.tooLong = false;
          continue;
        }
        if (b === 0x7d) {
          escaped = true;
          continue;
        }
        continue; // mapped control character
      }
      if (escaped) {
        b ^= 0x20;
        escaped = false;
      }
      if (len < max) {
        buf[len++] = b;
        fcs = (fcs >>> 8) ^ FCS_TABLE[(fcs ^ b) & 0xff];
      } else {
        this.tooLong = true;
      }
    }
    this.len = len;
    this.fcs = fcs;
    this.escaped = escaped;
  }

  private endFrame(len: number, fcs: number): void {
    const buf = this.buf;
    if (len < 4) {
      this.stats.tooShort++;
      return;
    }
    if (fcs !== 0xf0b8) {
      this.stats.badFcs++;
      return;
    }
    let p = 0;
    if (buf[0] === 0xff) {
      if (buf[1] !== 0x03) {
        this.stats.badHeader++;
        return;
      }
      p = 2;
    }
    let protocol = buf[p++];
    if ((protocol & 1) === 0) {
      const lo = buf[p++];
      if ((lo & 1) === 0) {
        this.stats.badHeader++;
        return;
      }
      protocol = (protocol << 8) | lo;
    }
    if (p > len - 2) {
      this.stats.tooShort++;
      return;
    }
    this.stats.framesOk++;
    this.onFrame(protocol, buf.subarray(p, len - 2));
  }
}
