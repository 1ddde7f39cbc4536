/**
 * `<linux/if_tun.h>` and `<linux/if.h>` values the TUN device uses (the calls themselves
 * are bound in src/sys/libc.ts). _IOW(type, nr, size) = 1 << 30 | size << 16 | type << 8 | nr
 * with type 'T' (0x54) and size 4 for int and unsigned int.
 */
export const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
/** Argument passed by value: TUN_F_* bits. */
export const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int)
/** Argument: pointer to int (≥ 10). */
export const TUNSETVNETHDRSZ = 0x400454d8; // _IOW('T', 216, int)
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
/** TUNSETOFFLOAD bits: we accept partial checksums and TCP GSO super-packets. */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
/** `<linux/if.h>` IFNAMSIZ: 15 characters + NUL. */
export const IFNAMSIZ = 16;
