/**
 * The C library's credential calls (through src/sys/libc.ts): getsockopt for SO_PEERCRED,
 * and the NSS lookups getpwuid_r, getgrgid_r, getgrouplist (so LDAP and the like count
 * too). src/gateway/peercred.ts asks who is on the other end of a unix socket with them.
 */
import { koffi } from '../native-modules.js';
import { cfunc, errno } from './libc.js';

const ERANGE = 34;

export interface CredLibc {
  getsockopt(fd: number, level: number, name: number, val: Buffer, len: Buffer): number;
  getpwuid(uid: number): { name: string; gid: number } | null;
  getgrouplist(user: string, gid: number): number[];
  getgrgid(gid: number): string | null;
  errno(): number;
}

let cached: CredLibc | null | undefined;

/** The credential calls, bound on first use; null when koffi or libc cannot load. */
export function credLibc(): CredLibc | null {
  if (cached !== undefined) return cached;
  try {
    const getsockopt = cfunc(
      'int getsockopt(int fd, int level, int optname, void *optval, void *optlen)',
    );
    koffi().struct('ts_vpn_passwd', {
      pw_name: 'char *',
      pw_passwd: 'char *',
      pw_uid: 'uint32_t',
      pw_gid: 'uint32_t',
      pw_gecos: 'char *',
      pw_dir: 'char *',
      pw_shell: 'char *',
    });
    koffi().struct('ts_vpn_group', {
      gr_name: 'char *',
      gr_passwd: 'char *',
      gr_gid: 'uint32_t',
      gr_mem: 'void *',
    });
    const getpwuidR = cfunc(
      'int getpwuid_r(uint32_t uid, _Out_ ts_vpn_passwd *pwd, void *buf, size_t buflen, _Out_ void **result)',
    );
    const getgrgidR = cfunc(
      'int getgrgid_r(uint32_t gid, _Out_ ts_vpn_group *grp, void *buf, size_t buflen, _Out_ void **result)',
    );
    const getgrouplist = cfunc(
      'int getgrouplist(const char *user, uint32_t group, void *groups, _Inout_ int *ngroups)',
    );
    /** Calls a *_r function with a growing buffer. */
    const withBuffer = <T>(
      call: (buf: Buffer, out: unknown[]) => number,
      read: (out: unknown[]) => T,
    ): T | null => {
      for (let size = 1024; size <= 1 << 20; size *= 4) {
        const buf = Buffer.alloc(size);
        const entry: unknown[] = [{}];
        const result: unknown[] = [null];
        const rc = call(buf, [entry, result]);
        if (rc === ERANGE) continue;
        if (rc !== 0 || result[0] === null) return null;
        return read(entry);
      }
      return null;
    };
    cached = {
      getsockopt: (fd, level, name, val, len) => getsockopt(fd, level, name, val, len) as number,
      getpwuid: (uid) =>
        withBuffer(
          (buf, [entry, result]) => getpwuidR(uid, entry, buf, buf.length, result) as number,
          (entry) => {
            const p = entry[0] as { pw_name: string; pw_gid: number };
            return { name: p.pw_name, gid: p.pw_gid };
          },
        ),
      getgrgid: (gid) =>
        withBuffer(
          (buf, [entry, result]) => getgrgidR(gid, entry, buf, buf.length, result) as number,
          (entry) => (entry[0] as { gr_name: string }).gr_name,
        ),
      getgrouplist: (user, gid) => {
        for (let n = 64; n <= 65536; n *= 4) {
          const groups = Buffer.alloc(n * 4);
          const count = [n];
          const rc = getgrouplist(user, gid, groups, count) as number;
          if (rc >= 0) {
            const out: number[] = [];
            for (let i = 0; i < count[0]!; i++) out.push(groups.readUInt32LE(i * 4));
            return out;
          }
        }
        return [gid];
      },
      errno,
    };
  } catch {
    cached = null;
  }
  return cached;
}
