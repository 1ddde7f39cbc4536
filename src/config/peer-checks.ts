/** Leaf checks of `peer.yaml` values (tunnel name, ssh host, jump, fingerprint, cipher, interface). */
import { checkCidr, checkEnum, checkString, describeValue, field, list } from './fields.js';
import { parseIp } from './net.js';
import { SUPPORTED_CIPHERS } from './peer-defaults.js';

export const NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const NAME_HELP =
  'is not a valid tunnel name: use 1-32 of a-z, 0-9 and "-", starting and ending with a letter or digit';
const HOSTNAME_RE =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function checkHost(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string' || v === '')
    return { error: `expected a host name or IP address, got ${describeValue(v)}` };
  if (v.includes('@'))
    return { error: `"${v}" contains "@"; put the user in ssh.user and only the host here` };
  const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if ('value' in parseIp(bare)) return { value: bare };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (bracketed)
    return {
      error: `"${v}" contains a port; write host: ${bracketed[1]} and port: ${bracketed[2]}`,
    };
  const hp = /^([^:]+):(\d+)$/.exec(v);
  if (hp) return { error: `"${v}" contains a port; write host: ${hp[1]} and port: ${hp[2]}` };
  if (!HOSTNAME_RE.test(v)) return { error: `"${v}" is not a valid host name or IP address` };
  return { value: v };
}

/** `[user@]host[:port]` or `[user@][v6addr]:port` for ssh.jump. */
const JUMP_RE = /^(?:([^@\s:]+)@)?(\[[0-9A-Fa-f:.]+\]|[^@\s:[\]]+)(?::(\d{1,5}))?$/;
export function checkJump(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string' || v === '')
    return { error: `expected [user@]host[:port], got ${describeValue(v)}` };
  const m = JUMP_RE.exec(v);
  if (!m)
    return {
      error: `"${v}" is not [user@]host[:port] (an IPv6 address needs [brackets] with a port)`,
    };
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))
    return { error: `"${v}": port ${m[3]} is not from 1 to 65535` };
  return { value: v };
}

const FP_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
export function checkFingerprint(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string')
    return {
      error: `expected a SHA256 fingerprint like "SHA256:abc…(43 base64 characters)", got ${describeValue(v)}`,
    };
  const s = v.trim();
  if (FP_RE.test(s)) return { value: s.replace(/=$/, '') };
  if (/^(MD5:)?([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(s)) {
    return {
      error: `"${s}" is an MD5 fingerprint; pin the SHA256 one (ssh-keygen -lf <key> -E sha256 prints "SHA256:…")`,
    };
  }
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s))
    return { error: `"${s}" lacks the "SHA256:" prefix; write "SHA256:${s.replace(/=$/, '')}"` };
  return {
    error: `"${s}" is not a SHA256 fingerprint: expected "SHA256:" and 43 base64 characters, as printed by ssh-keygen -lf <key>`,
  };
}

export function checkAgent(v: unknown): { value: boolean | string } | { error: string } {
  if (typeof v === 'boolean') return { value: v };
  if (typeof v === 'string' && v !== '') return { value: v };
  return {
    error: `expected true, false or the path of an ssh-agent socket, got ${describeValue(v)}`,
  };
}

export function checkCipher(v: unknown) {
  const r = checkEnum(SUPPORTED_CIPHERS)(v);
  if ('error' in r && typeof v === 'string' && /cbc|arcfour|3des|blowfish|cast128/.test(v)) {
    return { error: `"${v}" is not allowed (weak); use one of ${SUPPORTED_CIPHERS.join(', ')}` };
  }
  return r;
}

export function checkInterface(v: unknown): { value: string } | { error: string } {
  if (typeof v !== 'string' || v === '')
    return {
      error: `expected an interface name or pattern like "tsvpn%d", got ${describeValue(v)}`,
    };
  if (v.length > 15)
    return { error: `"${v}" is ${v.length} characters; Linux interface names are at most 15` };
  if (v === '.' || v === '..') return { error: `"${v}" is not a valid interface name` };
  const bad = /[/:\s]/.exec(v);
  if (bad)
    return {
      error: `"${v}" contains ${JSON.stringify(bad[0])}; interface names may not contain "/", ":" or spaces`,
    };
  if (/[^\x21-\x7e]/.test(v)) return { error: `"${v}" contains non-ASCII or control characters` };
  const pct = v.match(/%/g)?.length ?? 0;
  if (pct > 1 || (pct === 1 && !v.includes('%d')))
    return {
      error: `"${v}": a pattern may contain "%d" once (the kernel picks the number), and no other "%"`,
    };
  return { value: v };
}

export const str = (what?: string) => field(checkString(what ? { what } : {}));
export const path = () => field(checkString({ what: 'a file path' }));
export const cidrs = (opts: { max?: number } = {}) => list(checkCidr(), opts);
export const cidrs4 = () => list(checkCidr(4));
