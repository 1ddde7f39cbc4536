/** Small statistics and formatting helpers for the tunnel benchmark. */

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function minMax(xs: number[]): [number, number] {
  if (xs.length === 0) return [Number.NaN, Number.NaN];
  return [Math.min(...xs), Math.max(...xs)];
}

export function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** "median (min-max)" */
export function spread(xs: number[], digits = 0): string {
  if (xs.length === 0) return '-';
  const [lo, hi] = minMax(xs);
  return xs.length === 1
    ? fmt(xs[0]!, digits)
    : `${fmt(median(xs), digits)} (${fmt(lo, digits)}-${fmt(hi, digits)})`;
}

export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

/** Renders rows as a plain aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** "flat" or "growing" over a soak: the last quarter's median against the second quarter's. */
export function trend(xs: number[]): string {
  if (xs.length < 8) return 'too short';
  const q = Math.floor(xs.length / 4);
  const early = median(xs.slice(q, 2 * q));
  const late = median(xs.slice(3 * q));
  const d = (late - early) / early;
  return `${Math.abs(d) < 0.05 ? 'flat' : d > 0 ? 'growing' : 'falling'} (${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} % from the 2nd to the 4th quarter)`;
}
