/**
 * Configuration Option TLVs (RFC 1661 §6):
 *
 *   Type (1) | Length (1, includes type and length) | Data …
 *
 * plus the per-protocol option codec table: each option's parse, emit and
 * debug format live in one {@link OptionCodec}.
 */

import { hexSpaced } from './bytes.js';

/** One raw option: its type and a view of its data (after type and length). */
export interface RawOption {
  type: number;
  data: Uint8Array;
}

/**
 * Splits an options field into TLVs. Returns null when an option's length is
 * below 2 or runs past the end (malformed); never throws.
 */
export function parseOptions(field: Uint8Array): RawOption[] | null {
  const out: RawOption[] = [];
  let off = 0;
  while (off < field.length) {
    if (field.length - off < 2) return null;
    const type = field[off];
    const len = field[off + 1];
    if (len < 2 || off + len > field.length) return null;
    out.push({ type, data: field.subarray(off + 2, off + len) });
    off += len;
  }
  return out;
}

/** Encodes TLVs into one options field. Data longer than 253 bytes is a local bug. */
export function emitOptions(options: readonly RawOption[]): Uint8Array {
  let n = 0;
  for (const o of options) n += 2 + o.data.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const o of options) {
    out[off] = o.type;
    out[off + 1] = 2 + o.data.length;
    out.set(o.data, off + 2);
    off += 2 + o.data.length;
  }
  return out;
}

/**
 * The single definition of one option: its wire parse and emit, and how
 * pppd prints it between `<` and `>`.
 */
export interface OptionCodec<T> {
  /** Option type octet. */
  readonly type: number;
  /** Short name for diagnostics. */
  readonly name: string;
  /** Decodes the option data (after type and length); null if malformed. */
  parse(data: Uint8Array): T | null;
  /** Encodes a value into option data (after type and length). */
  emit(value: T): Uint8Array;
  /**
   * pppd text for a well-formed option, without the angle brackets, e.g.
   * `mru 296`. Returns the text and how many data bytes it consumed; pppd
   * prints any remaining bytes as hex (`compress VJ 0f 01`).
   */
  format(value: T, data: Uint8Array): { text: string; used: number };
}

/** An option codec of any value type (tables hold mixed codecs). */
// biome-ignore lint/suspicious/noExplicitAny: heterogeneous codec tables
export type AnyOptionCodec = OptionCodec<any>;

/** Lookup table of a protocol's option codecs by type. */
export type OptionTable = ReadonlyMap<number, AnyOptionCodec>;

/** Builds an {@link OptionTable} from codecs. */
export function optionTable(codecs: readonly AnyOptionCodec[]): OptionTable {
  const m = new Map<number, AnyOptionCodec>();
  for (const c of codecs) m.set(c.type, c);
  return m;
}

/**
 * One option of a received packet, parsed through its protocol's codec table: the
 * automaton parses, the policy decides on the typed value ({@link isOption}).
 */
export interface ParsedOption<T = unknown> {
  readonly type: number;
  /** The option data as received (after type and length). */
  readonly data: Uint8Array;
  /** The codec of this type, or null for a type the protocol has no codec for. */
  readonly codec: OptionCodec<T> | null;
  /** `codec.parse(data)`; null only when `codec` is null. */
  readonly value: T | null;
}

/** Narrows a parsed option to one codec's typed value. */
export function isOption<T>(
  o: ParsedOption,
  codec: OptionCodec<T>,
): o is ParsedOption<T> & { readonly value: T } {
  return o.codec === codec;
}

/**
 * Parses one raw option through `table`. Null when the type has a codec and the data is
 * malformed for it; a type without a codec comes back with `codec` and `value` null.
 */
export function parseOption(table: OptionTable, o: RawOption): ParsedOption | null {
  const codec = table.get(o.type) ?? null;
  if (codec === null) return { type: o.type, data: o.data, codec: null, value: null };
  const value = codec.parse(o.data);
  return value === null ? null : { type: o.type, data: o.data, codec, value };
}

/** Parses every option; null when any is malformed. */
export function parseOptionList(
  table: OptionTable,
  options: readonly RawOption[],
): ParsedOption[] | null {
  const out: ParsedOption[] = [];
  for (const o of options) {
    const p = parseOption(table, o);
    if (p === null) return null;
    out.push(p);
  }
  return out;
}

/** A raw option built from a codec and a value. */
export function rawOption<T>(codec: OptionCodec<T>, value: T): RawOption {
  return { type: codec.type, data: codec.emit(value) };
}

/**
 * Formats one option the way pppd does: ` <text>`; unknown or malformed
 * options as ` < tt ll dd …>` (type, length and data in hex).
 */
export function formatOption(table: OptionTable, type: number, data: Uint8Array): string {
  const codec = table.get(type);
  if (codec !== undefined) {
    const value = codec.parse(data);
    if (value !== null) {
      const { text, used } = codec.format(value, data);
      const rest = used < data.length ? ` ${hexSpaced(data, used)}` : '';
      return ` <${text}${rest}>`;
    }
  }
  const all = ` ${type.toString(16).padStart(2, '0')} ${(data.length + 2).toString(16).padStart(2, '0')}`;
  return ` <${all}${data.length > 0 ? ` ${hexSpaced(data)}` : ''}>`;
}
