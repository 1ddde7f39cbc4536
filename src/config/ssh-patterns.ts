/**
 * OpenSSH's pattern matching (match.c), shared by the ssh_config reader (`Host`, `Match
 * host`) and the known_hosts checker: `*` and `?` globs, comma lists with `!` negation.
 */

/** `*` and `?` glob match of a whole string (OpenSSH match_pattern). */
export function matchPattern(s: string, pattern: string): boolean {
  // Iterative glob with backtracking on the last `*`.
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || pattern[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/**
 * OpenSSH match_hostname: true when some positive pattern matches and no negated
 * pattern (`!pat`) does. Patterns compare case-insensitively.
 */
export function matchHostPatterns(host: string, patterns: string): boolean {
  const h = host.toLowerCase();
  let positive = false;
  for (const p of patterns.split(',')) {
    if (p === '') continue;
    const neg = p.startsWith('!');
    const pat = (neg ? p.slice(1) : p).toLowerCase();
    if (matchPattern(h, pat)) {
      if (neg) return false;
      positive = true;
    }
  }
  return positive;
}
