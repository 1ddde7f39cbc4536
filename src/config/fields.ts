/**
 * Leaf validators for the YAML schemas. Each is a zod schema over `unknown`
 * with our own message (what was expected, what was found), and `.optional()`:
 * defaults are filled in afterwards (see peer.ts / server.ts), in one place.
 */
import { z } from 'zod';
import { type Cidr, type Parsed, parseCidr, parseIp, parseIpv4 } from './net.js';
import { didYouMean } from './suggest.js';

/**
 * Parses with zod's interpreter instead of compiling a parser per object schema (zod's
 * JIT, `new Function`): for a process that parses one or two small files at start (the
 * CLI) that is ~10 ms less CPU (measured: loadPeerConfig 40-46 → 28-32 ms CPU). zod's
 * setting is process-wide, so only the CLI calls this, never the library.
 */
export function parseConfigWithoutJit(): void {
  z.config({ jitless: true });
}

/** How a YAML value reads in an error message. */
export function describeValue(v: unknown): string {
  if (v === null) return 'nothing (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

type Check<T> = (v: unknown) => Parsed<T>;

/** Wraps a check as an optional zod field. */
export function field<T>(check: Check<T>) {
  return z
    .unknown()
    .transform((v, ctx): T => {
      const r = check(v);
      if ('error' in r) {
        ctx.addIssue({ code: 'custom', message: r.error, input: v });
        return z.NEVER;
      }
      return r.value;
    })
    .optional();
}

export const checkInt =
  (min: number, max: number, what = 'an integer'): Check<number> =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? { value: v }
      : { error: `expected ${what} ${min}-${max}, got ${describeValue(v)}` };

/** A duration written in seconds (fractions allowed), returned in milliseconds. */
export const checkSeconds =
  (min: number, max: number): Check<number> =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
      ? { value: Math.round(v * 1000) }
      : { error: `expected a number of seconds ${min}-${max}, got ${describeValue(v)}` };

export const checkBool: Check<boolean> = (v) =>
  typeof v === 'boolean'
    ? { value: v }
    : {
        error: `expected true or false, got ${describeValue(v)}${typeof v === 'string' && /^(yes|no|on|off)$/i.test(v) ? ' (YAML 1.2: write true or false)' : ''}`,
      };

export const checkString =
  (
    opts: { what?: string; max?: number; pattern?: RegExp; patternHelp?: string } = {},
  ): Check<string> =>
  (v) => {
    const what = opts.what ?? 'a non-empty string';
    if (typeof v !== 'string' || v.length === 0)
      return { error: `expected ${what}, got ${describeValue(v)}` };
    if (opts.max !== undefined && v.length > opts.max)
      return { error: `${describeValue(v)} is too long (at most ${opts.max} characters)` };
    if (v.includes('\0')) return { error: 'contains a NUL character' };
    if (opts.pattern && !opts.pattern.test(v))
      return { error: `${describeValue(v)} ${opts.patternHelp ?? 'is not valid'}` };
    return { value: v };
  };

/**
 * A password: like {@link checkString}, but no error ever repeats the value
 * (an unquoted `password: 123456` or an over-long one must not end up in a
 * terminal or log).
 */
export const checkSecret =
  (max: number): Check<string> =>
  (v) => {
    if (typeof v !== 'string' || v.length === 0) {
      const kind =
        v === null || v === undefined
          ? 'nothing (an empty value)'
          : v === ''
            ? '""'
            : Array.isArray(v)
              ? 'a list'
              : typeof v === 'object'
                ? 'a mapping'
                : `a ${typeof v} (value not shown; quote the password)`;
      return { error: `expected a password, got ${kind}` };
    }
    if (v.length > max)
      return { error: `is too long (${v.length} characters, at most ${max}; value not shown)` };
    if (v.includes('\0')) return { error: 'contains a NUL character' };
    return { value: v };
  };

export const checkEnum =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? { value: v as T }
      : {
          error: `expected one of ${values.join(', ')}, got ${describeValue(v)}${typeof v === 'string' ? didYouMean(v, values) : ''}`,
        };

export const checkIpv4: Check<string> = (v) =>
  typeof v === 'string'
    ? parseIpv4(v)
    : { error: `expected an IPv4 address like 10.0.0.1, got ${describeValue(v)}` };

/** An IPv4 address, or `ask` (null): let the peer choose. */
export const checkIpv4OrAsk: Check<string | null> = (v) => {
  if (v === 'ask') return { value: null };
  if (typeof v !== 'string')
    return { error: `expected an IPv4 address or "ask", got ${describeValue(v)}` };
  const r = parseIpv4(v);
  return 'error' in r ? { error: `expected an IPv4 address or "ask", got "${v}"` } : r;
};

export const checkIp: Check<string> = (v) => {
  if (typeof v !== 'string') return { error: `expected an IP address, got ${describeValue(v)}` };
  const r = parseIp(v);
  return 'error' in r ? r : { value: r.value.text };
};

export const checkCidr =
  (family?: 4 | 6): Check<Cidr> =>
  (v) =>
    typeof v === 'string'
      ? parseCidr(v, family)
      : {
          error: `expected a prefix like ${family === 6 ? 'fd00:1::/64' : '10.1.0.0/16'}, got ${describeValue(v)}`,
        };

/** A list of checked items; per-item problems are reported at `path[i]`. */
export function list<T>(
  item: Check<T>,
  opts: { max?: number; min?: number; single?: boolean } = {},
) {
  return z
    .unknown()
    .transform((v, ctx): T[] => {
      // `single`: a lone scalar is accepted as a one-item list (e.g. `known-hosts: /path`).
      const arr = Array.isArray(v)
        ? v
        : opts.single && v !== null && typeof v !== 'object'
          ? [v]
          : null;
      if (arr === null) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a list, got ${describeValue(v)}`,
          input: v,
        });
        return z.NEVER;
      }
      if (opts.max !== undefined && arr.length > opts.max) {
        ctx.addIssue({
          code: 'custom',
          message: `at most ${opts.max} entries allowed, got ${arr.length}`,
          input: v,
        });
        return z.NEVER;
      }
      if (opts.min !== undefined && arr.length < opts.min) {
        ctx.addIssue({
          code: 'custom',
          message: `expected at least ${opts.min} entr${opts.min === 1 ? 'y' : 'ies'}, got ${arr.length}`,
          input: v,
        });
        return z.NEVER;
      }
      const out: T[] = [];
      let bad = false;
      arr.forEach((x, i) => {
        const r = item(x);
        if ('error' in r) {
          bad = true;
          ctx.addIssue({
            code: 'custom',
            message: r.error,
            path: Array.isArray(v) ? [i] : [],
            input: x,
          });
        } else out.push(r.value);
      });
      return bad ? z.NEVER : out;
    })
    .optional();
}

/**
 * A strict mapping (unknown keys are errors), optional. An empty section
 * (`hooks:` with every key commented out) is the same as an absent one.
 */
export function section<S extends z.core.$ZodLooseShape>(shape: S) {
  return z
    .preprocess(
      (v) => (v === null ? {} : v),
      z.strictObject(shape, {
        error: (iss) =>
          iss.code === 'invalid_type'
            ? `expected a mapping of keys, got ${describeValue(iss.input)}`
            : undefined,
      }),
    )
    .optional();
}
