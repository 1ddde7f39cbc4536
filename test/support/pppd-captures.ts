/**
 * The pppd 2.4.9 captures the tests check against, in this repository:
 * test/fixtures/pppd/<scenario>/{a-to-b.hex,b-to-a.hex,a.log,b.log,options.txt}
 * (provenance and format: test/fixtures/pppd/README.md). Nothing outside the repository.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PPPD_CAPTURES = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'),
  'test',
  'fixtures',
  'pppd',
);

export const CAPTURE_SCENARIOS = [
  'defaults',
  'rejects',
  'mru-accm',
  'pap',
  'chap',
  'ask-address',
] as const;

/** The captures directory; throws (fails the test) if the fixtures are missing. */
export function requireCaptures(): string {
  if (!existsSync(join(PPPD_CAPTURES, 'defaults', 'a-to-b.hex')))
    throw new Error(
      `pppd captures missing at ${PPPD_CAPTURES} (test/fixtures/pppd is part of the repository)`,
    );
  return PPPD_CAPTURES;
}
