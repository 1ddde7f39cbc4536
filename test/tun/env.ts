/** Root check for the TUN tests: skip with a message when not root; in CI (CI=true) fail instead. */
import { canUseNetns } from '../support/netns.js';

export const PREFIX = 'tvtun-';

export function netnsAvailable(): boolean {
  const ok = canUseNetns();
  if (!ok) {
    if (process.env.CI === 'true')
      throw new Error('TUN tests need root and `ip netns` (CI=true: refusing to skip)');
    console.warn('[test/tun] skipped: needs root and `ip netns` to create network namespaces');
  }
  return ok;
}

/** Both TunDevice readers: every device/burst test runs once per reader. */
export const READERS = ['loop', 'worker'] as const;
export type Reader = (typeof READERS)[number];
/** Short tag for namespace and interface names. */
export const readerTag = (r: Reader): string => (r === 'loop' ? 'l' : 'w');
