/**
 * OpenSSH known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 *
 *   [@revoked|@cert-authority] patterns keytype base64-blob [comment]
 *
 * patterns: comma list of hostnames/addresses with `*` and `?` wildcards and `!` negation,
 * `[host]:port` for ports other than 22, or one hashed entry `|1|base64(salt)|base64(hmac)`
 * where hmac = HMAC-SHA1(key = salt, data = host string). Lines that do not parse are
 * skipped (OpenSSH warns and carries on), never thrown on.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchHostPatterns } from '../config/ssh-patterns.js';
import { appendFileSafe } from '../sys/safe-files.js';

export { matchHostPatterns, matchPattern } from '../config/ssh-patterns.js';

export type KnownHostMarker = 'revoked' | 'cert-authority' | null;

export interface KnownHostEntry {
  file: string;
  /** 1-based line number, as OpenSSH prints it. */
  line: number;
  marker: KnownHostMarker;
  /** The raw pattern field (comma list, or the hashed `|1|…|…`). */
  hosts: string;
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  /** The decoded public key blob (SSH wire format). */
  key: Buffer;
  comment: string;
}

/** The host string OpenSSH looks up: `host` on port 22, else `[host]:port`. Lower case. */
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Parses known_hosts text. Malformed lines are skipped (and reported through `onSkip`). */
export function parseKnownHosts(
  text: string,
  file = '<memory>',
  onSkip?: (line: number, why: string) => void,
): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostMarker = null;
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        onSkip?.(i + 1, `unknown marker ${m}`);
        continue;
      }
    }
    if (fields.length < 3) {
      onSkip?.(i + 1, 'too few fields');
      continue;
    }
    const [hosts, keyType, b64] = fields;
    const key = decodeBase64Strict(b64);
    if (!key || blobKeyType(key) !== keyType) {
      onSkip?.(i + 1, 'invalid key');
      continue;
    }
    let hashed: KnownHostEntry['hashed'] = null;
    if (hosts.startsWith('|')) {
      const parts = hosts.split('|');
      // '', '1', salt, hash
      const salt = parts.length === 4 && parts[1] === '1' ? decodeBase64Strict(parts[2]) : null;
      const hash = salt ? decodeBase64Strict(parts[3]) : null;
      if (!salt || !hash || salt.length !== 20 || hash.length !== 20) {
        onSkip?.(i + 1, 'invalid hashed host');
        continue;
      }
      hashed = { salt, hash };
    }
    out.push({
      file,
      line: i + 1,
      marker,
      hosts,
      hashed,
      keyType,
      key,
      comment: fields.slice(3).join(' '),
    });
  }
  return out;
}

/** Reads and parses a known_hosts file; a missing file is an empty list. */
export function readKnownHostsFile(
  file: string,
  onSkip?: (line: number, why: string) => void,
): KnownHostEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseKnownHosts(text, file, onSkip);
}

/** Does `entry` apply to the lookup name (`knownHostName(host, port)`)? */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(name.toLowerCase()).digest();
    return mac.equals(entry.hashed.hash);
  }
  return matchHostPatterns(name, entry.hosts);
}

/** The key type string at the start of an SSH public key blob, or null. */
export function blobKeyType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return null;
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** One known_hosts line for `name` (already `[host]:port` shaped), plain (HashKnownHosts no). */
export function formatKnownHostLine(name: string, key: Buffer): string {
  return `${name} ${blobKeyType(key)} ${key.toString('base64')}`;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as ssh-keygen -H and HashKnownHosts write it. */
export function hashKnownHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

/**
 * Appends a line, creating the directory (0700) and file (0600) if needed; with
 * `hashed` the host name is written hashed (HashKnownHosts yes). Root appends
 * to the invoking user's file (`$SUDO_UID`): never through a symlink or hard link, only
 * below directories owned by root or that user and not writable by others (OpenSSH's
 * rules for user files, src/sys/safe-files.ts); a file made here belongs to that user.
 */
export function appendKnownHost(
  file: string,
  name: string,
  key: Buffer,
  opts: { hashed?: boolean } = {},
): void {
  if (opts.hashed) name = hashKnownHostName(name);
  const dir = dirname(file);
  const user = invokingUser();
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dir, user.uid, user.gid);
  }
  appendFileSafe(file, (clean) => `${clean ? '' : '\n'}${formatKnownHostLine(name, key)}\n`, {
    owners: user ? [user.uid] : [],
    uid: user?.uid,
    gid: user?.gid,
  });
}

/** The user behind sudo (`SUDO_UID`/`SUDO_GID`), when running as root through sudo. */
function invokingUser(): { uid: number; gid: number } | null {
  const uid = Number(process.env.SUDO_UID ?? Number.NaN);
  const gid = Number(process.env.SUDO_GID ?? Number.NaN);
  if (!Number.isInteger(uid) || uid <= 0 || process.geteuid?.() !== 0) return null;
  return { uid, gid: Number.isInteger(gid) ? gid : -1 };
}

function decodeBase64Strict(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b.length > 0 ? b : null;
}
