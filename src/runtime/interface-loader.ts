/**
 * The TUN + rtnetlink code (koffi, the netlink package) is the heaviest part of the
 * runtime to load. Nothing needs it before IPCP opens, so both ends start loading it
 * when a session starts and await it only then: the module loads while SSH and LCP
 * negotiate instead of before the first byte goes out.
 */
import { koffi, netlink } from '../native-modules.js';

let loading: Promise<typeof import('./interface.js')> | null = null;

/** The interface module; the first call starts loading it, later calls share the promise. */
export function loadInterfaceModule(): Promise<typeof import('./interface.js')> {
  // koffi and netlink are loaded on first use (src/native-modules.ts): load them here too,
  // so they still load while SSH and LCP negotiate.
  loading ??= import('./interface.js').then((m) => {
    netlink();
    koffi();
    return m;
  });
  return loading;
}
