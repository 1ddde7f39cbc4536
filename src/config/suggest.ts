/** "Did you mean" hints: the closest candidate by edit distance, if close enough. */

export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Closest candidate within max(2, len/3) edits, also matching snake_case/camelCase spellings of kebab keys. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[_\s]/g, '-')
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2');
  const w = norm(word.replace(/([a-z0-9])([A-Z])/g, '$1-$2'));
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(w, norm(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best !== null && bestD <= limit ? best : null;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c === null ? '' : `; did you mean "${c}"?`;
}
