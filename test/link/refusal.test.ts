import { describe, expect, it } from 'vitest';
import { isRefusal, type LinkEndFacts } from '../../src/link/session.js';

const facts = (over: Partial<LinkEndFacts>): LinkEndFacts => ({
  reason: 'finished',
  cause: null,
  authFailure: null,
  peerTerminated: null,
  echoUnanswered: null,
  wasUp: false,
  ...over,
});

describe('isRefusal', () => {
  it('is true for refusals retrying cannot fix: auth, no network protocol, a gateway policy', () => {
    expect(isRefusal(facts({ authFailure: 'CHAP rejected' }))).toBe(true);
    expect(isRefusal(facts({ peerTerminated: 'No network protocols running' }))).toBe(true);
    expect(
      isRefusal(
        facts({
          peerTerminated:
            'user bob is not allowed on this gateway (not listed, and unknown-users is refuse)',
        }),
      ),
    ).toBe(true);
    expect(isRefusal(facts({ peerTerminated: 'uid 4242 has no user name on the gateway' }))).toBe(
      true,
    );
  });

  it('is false for a gateway limit that passes with time, and once the link had been up', () => {
    for (const t of [
      'too many sessions: all 1024 allowed by max-sessions are in use; try again later',
      'user bob already has 4 sessions (max-sessions 4 in defaults)',
      'address pool lan is exhausted; try again later',
      'the gateway is shutting down; try again shortly',
      'ended by the gateway administrator',
    ])
      expect(isRefusal(facts({ peerTerminated: t }))).toBe(false);
    expect(
      isRefusal(facts({ wasUp: true, peerTerminated: 'user bob is not allowed on this gateway' })),
    ).toBe(false);
  });
});
