/**
 * Every control frame of every pppd capture, decoded and printed by our
 * formatters, must equal pppd's own `sent [...]` log line, in order.
 */

import { describe, expect, it } from 'vitest';
import { formatFrame } from '../../src/engine/index.js';
import { deframe, interopAvailable, loadCapture, SCENARIOS, sentLines } from './support/interop.js';

describe.runIf(interopAvailable())('pppd log lines from the captures', () => {
  for (const name of SCENARIOS) {
    for (const side of ['a', 'b'] as const) {
      it(`${name}: ${side.toUpperCase()}'s control frames print like its log`, () => {
        const cap = loadCapture(name);
        const frames = deframe(side === 'a' ? cap.aToB : cap.bToA);
        const ours = frames
          .map((f) => formatFrame(f.protocol, f.info))
          .filter((s): s is string => s !== null);
        // pppd ran with show-password in `pap`; our PAP printer always hides it.
        const theirs = sentLines(side === 'a' ? cap.aLog : cap.bLog).map((l) =>
          l.replace(/password="[^"]*"/, 'password=<hidden>'),
        );
        expect(ours).toEqual(theirs);
      });
    }
  }
});
