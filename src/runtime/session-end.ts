/**
 * The end of one far-end session's data side, shared by `ts-vpn serve` (ServeSession)
 * and each `ts-vpn gateway` session: the link's timers stop, packets from the TUN are
 * dropped, pending interface changes finish, the device goes (its addresses and routes
 * with it); and the one wording of the traffic summary their "ended" log lines carry.
 */
import type { LinkSession } from '../link/index.js';
import type { DataPath } from './data-path.js';
import type { SerialQueue } from './serial.js';

/** Stops `link` and the data path, then closes the TUN device. Returns its name (null: none was open). */
export async function closeSessionDevice(
  link: LinkSession | null,
  data: DataPath,
  changes: SerialQueue,
  warn: (message: string) => void,
): Promise<string | null> {
  link?.stop();
  data.stop();
  if (link) data.detach(link);
  await changes.idle();
  const iface = data.iface;
  if (!iface) return null;
  const name = iface.name;
  await iface.close().catch((err) => warn(`closing ${name}: ${(err as Error).message}`));
  return name;
}

/** `(rx 3 pkts / 252 B, tx 3 pkts / 252 B)` for the "session ended" lines. */
export function trafficSummary(
  rx: { packets: number; bytes: number },
  tx: { packets: number; bytes: number },
): string {
  return `(rx ${rx.packets} pkts / ${rx.bytes} B, tx ${tx.packets} pkts / ${tx.bytes} B)`;
}
