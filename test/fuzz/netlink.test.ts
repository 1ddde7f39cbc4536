/**
 * rtnetlink replies never throw out of our parsers (issue 15; bench:fuzz targets
 * rtnl-route-dump, rtnl-link-reply, netlink-route-msg share the checks): arbitrary
 * bytes and mutated valid dumps/replies into parseRouteDump (+ RouteGuard),
 * parseRtnlReply (+ linkGsoOf, only its documented errno Error) and the netlink
 * package's parser followed by routeInfoOf.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../bench/fuzz/rng.js';
import {
  checkLinkReply,
  checkPackageRoute,
  checkRouteDump,
  routeDump,
} from '../../bench/fuzz/targets-netlink.js';
import { parseRtnlReply } from '../../src/tun/link-gso.js';
import { parseRouteDump } from '../../src/tun/routes-snapshot.js';

const bytes = fc.uint8Array({ maxLength: 2048 });
/** A valid dump from a seed, then bytes overwritten and the length cut. */
const mutatedDump = fc
  .tuple(
    fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.nat(),
  )
  .map(([seed, edits, cut]) => {
    const d = Uint8Array.from(routeDump(new Rng(seed)));
    for (const [at, v] of edits) if (d.length > 0) d[at % d.length] = v;
    return d.subarray(0, d.length === 0 ? 0 : cut % (d.length + 1));
  });

describe('netlink reply parsers never throw on a broken answer', () => {
  it('parseRouteDump + RouteGuard: random bytes and mutated dumps', () => {
    fc.assert(
      fc.property(fc.oneof(bytes, mutatedDump), (b) => checkRouteDump(b)),
      {
        numRuns: 3000,
      },
    );
  });

  it('parseRtnlReply + linkGsoOf: only the documented errno Error, any claimed length', () => {
    fc.assert(
      fc.property(bytes, fc.integer({ min: -10, max: 5000 }), (b, n) => checkLinkReply(b, n)),
      { numRuns: 3000 },
    );
  });

  it('netlink package parse + routeInfoOf: never throws past the package', () => {
    fc.assert(
      fc.property(fc.oneof(bytes, mutatedDump), (b) => checkPackageRoute(b)),
      {
        numRuns: 2000,
      },
    );
  });

  it('regressions: a short MTU attribute and a short error message', () => {
    // RTM_NEWLINK with IFLA_MTU of 2 octets: linkGso used to read 4 (RangeError).
    const reply = Buffer.alloc(40);
    reply.writeUInt32LE(38, 0);
    reply.writeUInt16LE(16, 4);
    reply.writeUInt16LE(6, 32);
    reply.writeUInt16LE(4, 34);
    expect(() => checkLinkReply(reply)).not.toThrow();
    // NLMSG_ERROR cut after the header: EBADMSG, not a RangeError.
    const err = Buffer.alloc(16);
    err.writeUInt32LE(16, 0);
    err.writeUInt16LE(2, 4);
    expect(() => parseRtnlReply(err, 16)).toThrow(expect.objectContaining({ errno: 74 }));
    expect(parseRouteDump(err).error).toBe(-22);
  });
});
