/**
 * The claim line a client may write on its gateway channel before PPP
 * (`ts-vpn claim 192.168.100.0/24 10.9.0.0/16\n`, see src/transport/streamlocal.ts):
 * networks behind the client that it wants routed to its session. The gateway grants
 * each one only when it lies inside the user's `allow-client-routes`.
 *
 * ClaimReader sits in front of the link's byte stream: it holds the first bytes only
 * while they can still be the start of a claim line, then passes everything else on
 * unchanged. A PPP frame starts with 0x7e (flag) or 0xff (address), never with "t",
 * so a client without a claim line costs one comparison. Bounded: a line longer than
 * MAX_CLAIM_LINE, or one that does not parse, is handed to PPP as it came (where it
 * counts as bad input) and grants nothing.
 */
import { CLAIM_PREFIX } from '../transport/streamlocal.js';
import { formatPrefix4, parsePrefix4 } from '../wire/ip.js';

/** What a claim line starts with: the client's prefix (claimLine) and its separating space. */
const PREFIX = new TextEncoder().encode(`${CLAIM_PREFIX} `);
export const MAX_CLAIM_LINE = 1024;
export const MAX_CLAIMS = 32;

export interface ClaimResult {
  /** The claimed prefixes (normalised `a.b.c.d/n`). */
  routes: string[];
  /** Why the line was not taken, or null. */
  error: string | null;
}

export class ClaimReader {
  private held: Uint8Array | null = null;
  private done = false;
  /** Set once a line was read (or found to be missing: routes []). */
  result: ClaimResult | null = null;

  /** Bytes for PPP from `chunk` (empty while a claim line is still being read). */
  feed(chunk: Uint8Array): Uint8Array {
    if (this.done) return chunk;
    const buf = this.held ? concat(this.held, chunk) : chunk;
    this.held = null;
    const n = Math.min(buf.length, PREFIX.length);
    for (let i = 0; i < n; i++) if (buf[i] !== PREFIX[i]) return this.finish(buf, null);
    const nl = buf.indexOf(0x0a);
    if (nl < 0) {
      if (buf.length > MAX_CLAIM_LINE)
        return this.finish(buf, `claim line longer than ${MAX_CLAIM_LINE} bytes`);
      this.held = buf.slice();
      return new Uint8Array(0);
    }
    if (nl > MAX_CLAIM_LINE)
      return this.finish(buf, `claim line longer than ${MAX_CLAIM_LINE} bytes`);
    const parsed = parseClaims(new TextDecoder().decode(buf.subarray(PREFIX.length, nl)));
    if (parsed.error !== null) return this.finish(buf, parsed.error);
    this.done = true;
    this.result = parsed;
    return buf.subarray(nl + 1);
  }

  private finish(buf: Uint8Array, error: string | null): Uint8Array {
    this.done = true;
    this.result = { routes: [], error };
    return buf;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `192.168.100.0/24 10.9.0.0/16` → the prefixes, or the first word that is not one. */
export function parseClaims(text: string): ClaimResult {
  const words = text.trim().split(/ +/).filter(Boolean);
  if (words.length > MAX_CLAIMS)
    return { routes: [], error: `more than ${MAX_CLAIMS} claimed routes` };
  const routes: string[] = [];
  for (const w of words) {
    const p = /^[0-9./]+$/.test(w) ? parsePrefix4(w, true) : null;
    if (p === null)
      return {
        routes: [],
        error: `claimed route ${JSON.stringify(w.slice(0, 40))} is not an IPv4 prefix`,
      };
    routes.push(formatPrefix4(p));
  }
  return { routes, error: null };
}
