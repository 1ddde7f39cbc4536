/** Root check for the TUN tests: skip with a message when not root; in CI (CI=true) fail instead. */
import { requireNetns } from '../support/netns.js';

export const PREFIX = 'tvtun-';

export function netnsAvailable(): boolean {
  return requireNetns('TUN tests');
}

/** Both TunDevice readers: every device/burst test runs once per reader. */
export const READERS = ['loop', 'worker'] as const;
export type Reader = (typeof READERS)[number];
/** Short tag for namespace and interface names. */
export const readerTag = (r: Reader): string => (r === 'loop' ? 'l' : 'w');
