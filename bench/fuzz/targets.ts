/** Every fuzz target, in table order. */
import { CODEC_TARGETS } from './targets-codec.js';
import { ENGINE_TARGETS } from './targets-engine.js';
import { NETLINK_TARGETS } from './targets-netlink.js';
import { TEXT_TARGETS } from './targets-text.js';
import { VNET_TARGETS } from './targets-vnet.js';
import type { FuzzTarget } from './types.js';

export const TARGETS: FuzzTarget[] = [
  ...CODEC_TARGETS,
  ...VNET_TARGETS,
  ...ENGINE_TARGETS,
  ...TEXT_TARGETS,
  ...NETLINK_TARGETS,
];

export function targetByName(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined)
    throw new Error(`unknown fuzz target ${name}; known: ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}
