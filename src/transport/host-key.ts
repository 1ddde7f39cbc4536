/**
 * Host key verification with OpenSSH semantics (ssh(1) StrictHostKeyChecking):
 * known_hosts match → ok; `@revoked` → refuse; same key type with another key →
 * refuse loudly (even with accept-new); nothing known → refuse, or append with
 * accept-new. A pinned fingerprint list replaces known_hosts entirely.
 */
import { createHash } from 'node:crypto';
import { TransportError } from './errors.js';
import {
  appendKnownHost,
  blobKeyType,
  entryMatchesHost,
  type KnownHostEntry,
  knownHostName,
  readKnownHostsFile,
} from './known-hosts.js';

/** `SHA256:` + base64 without padding of SHA-256(blob), as `ssh-keygen -l` prints it. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** `ED25519`, `RSA`, `ECDSA`, … as OpenSSH names key types in messages. */
export function keyTypeLabel(keyType: string | null): string {
  switch (keyType) {
    case 'ssh-ed25519':
      return 'ED25519';
    case 'ssh-rsa':
      return 'RSA';
    case 'ssh-dss':
      return 'DSA';
    case 'sk-ssh-ed25519@openssh.com':
      return 'ED25519-SK';
    case 'sk-ecdsa-sha2-nistp256@openssh.com':
      return 'ECDSA-SK';
    default:
      return keyType?.startsWith('ecdsa-sha2-') ? 'ECDSA' : (keyType ?? 'UNKNOWN');
  }
}

/** Normalises a user-supplied pin: `SHA256:abc=` and `abc` both become `SHA256:abc`. */
export function normalizeFingerprint(fp: string): string {
  const s = fp
    .trim()
    .replace(/^SHA256:/i, '')
    .replace(/=+$/, '');
  return `SHA256:${s}`;
}

export interface HostKeyPolicy {
  /** known_hosts files to consult, in order; the first one receives accept-new lines. */
  knownHostsFiles: string[];
  /**
   * The name to look up and record in known_hosts instead of the host connected to
   * (OpenSSH HostKeyAlias). Used as given: no `[…]:port` decoration.
   */
  alias?: string;
  /** Add unknown hosts to the first file (StrictHostKeyChecking=accept-new). */
  acceptNew?: boolean;
  /** Write accept-new lines with the host name hashed (HashKnownHosts yes). */
  hashNew?: boolean;
  /** Pinned `SHA256:…` fingerprints; when non-empty, known_hosts is not consulted. */
  fingerprints?: string[];
}

export interface HostKeyVerdict {
  fingerprint: string;
  keyType: string;
  /** `known_hosts <file>:<line>`, `pinned fingerprint`, `accept-new (added to <file>)`. */
  verifiedBy: string;
}

/**
 * Decides about `blob` offered by `host:port`. Returns the verdict or throws a
 * TransportError (HOST_KEY_UNKNOWN / HOST_KEY_MISMATCH / HOST_KEY_REVOKED).
 * `log` receives notices (accept-new additions, ignored @cert-authority lines, skipped lines).
 */
export function verifyHostKey(
  host: string,
  port: number,
  blob: Buffer,
  policy: HostKeyPolicy,
  log: (msg: string) => void = () => {},
): HostKeyVerdict {
  const keyType = blobKeyType(blob) ?? 'unknown';
  const label = keyTypeLabel(keyType);
  const fingerprint = fingerprintSha256(blob);
  const name = policy.alias ?? knownHostName(host, port);
  const primaryFile = policy.knownHostsFiles[0] ?? '~/.ssh/known_hosts';

  if (policy.fingerprints && policy.fingerprints.length > 0) {
    const pins = policy.fingerprints.map(normalizeFingerprint);
    if (pins.includes(fingerprint))
      return { fingerprint, keyType, verifiedBy: 'pinned fingerprint' };
    throw new TransportError(
      'HOST_KEY_MISMATCH',
      `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The ${label} host key for ${name} has fingerprint ${fingerprint}, ` +
        `which is not the pinned fingerprint (${pins.join(', ')}). Host key verification failed.`,
    );
  }

  const entries = knownEntriesFor(name, policy, log);

  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob));
  if (revoked) {
    throw new TransportError(
      'HOST_KEY_REVOKED',
      `WARNING: REVOKED HOST KEY DETECTED! The ${label} host key for ${name} (${fingerprint}) is marked as revoked ` +
        `in ${revoked.file}:${revoked.line}. This could mean that a stolen key is being used to impersonate this host. ` +
        'Host key verification failed.',
    );
  }
  for (const e of entries) {
    if (e.marker === 'cert-authority')
      log(`${e.file}:${e.line}: @cert-authority entries are not supported; ignored`);
  }
  const plain = entries.filter((e) => e.marker === null);
  const match = plain.find((e) => e.key.equals(blob));
  if (match) return { fingerprint, keyType, verifiedBy: `known_hosts ${match.file}:${match.line}` };

  const offending = plain.find((e) => e.keyType === keyType);
  if (offending) {
    throw new TransportError(
      'HOST_KEY_MISMATCH',
      [
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
        '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
        'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
        'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
        'It is also possible that a host key has just been changed.',
        `The fingerprint for the ${label} key sent by the remote host is`,
        `${fingerprint}.`,
        `Add correct host key in ${offending.file} to get rid of this message.`,
        `Offending ${keyTypeLabel(offending.keyType)} key in ${offending.file}:${offending.line}`,
        `Host key for ${name} has changed and you have requested strict checking.`,
        'Host key verification failed.',
      ].join('\n'),
    );
  }

  if (policy.acceptNew) {
    appendKnownHost(primaryFile, name, blob, { hashed: policy.hashNew });
    log(
      `Warning: Permanently added '${name}' (${label}) to the list of known hosts (${primaryFile}); ${fingerprint}.`,
    );
    return { fingerprint, keyType, verifiedBy: `accept-new (added to ${primaryFile})` };
  }

  const others =
    plain.length > 0
      ? ` (keys of other types are known: ${[...new Set(plain.map((e) => keyTypeLabel(e.keyType)))].join(', ')})`
      : '';
  throw new TransportError(
    'HOST_KEY_UNKNOWN',
    `No ${label} host key is known for ${name}${others} and you have requested strict checking. ` +
      `Host key verification failed. Fingerprint ${fingerprint}; add it to ${primaryFile} ` +
      'or set ssh.host-key.accept-new / fingerprint',
  );
}

/** Every known_hosts entry (any marker) of `name` in the policy's files, in file order. */
function knownEntriesFor(
  name: string,
  policy: HostKeyPolicy,
  log: (msg: string) => void,
  onUnreadable: 'throw' | 'skip' = 'throw',
): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const f of policy.knownHostsFiles) {
    let list: KnownHostEntry[];
    try {
      list = readKnownHostsFile(f, (line, why) =>
        log(`${f}:${line}: ignoring malformed known_hosts line (${why})`),
      );
    } catch (err) {
      if (onUnreadable === 'throw') throw err;
      continue;
    }
    for (const e of list) if (entryMatchesHost(e, name)) entries.push(e);
  }
  return entries;
}

/**
 * Server host key algorithms we offer, best first (ssh2 1.x's list, Ed25519 first, no DSA).
 * RSA keys are signed with SHA-2 (RFC 8332) before the old SHA-1 `ssh-rsa`.
 */
export const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/** The signature algorithms that prove possession of a key of `keyType`. */
function algorithmsForKeyType(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return (DEFAULT_HOST_KEY_ALGORITHMS as readonly string[]).includes(keyType) ? [keyType] : [];
}

/**
 * The host key algorithm preference for `host:port`, as OpenSSH orders it
 * (sshconnect2.c order_hostkeyalgs): the algorithms of the key types known_hosts holds
 * for that host come first, then the others, each group in the default order. So a
 * server with Ed25519 and ECDSA keys, of which only the ECDSA one is known, is asked
 * for its ECDSA key instead of being refused for an unknown Ed25519 one. With pinned
 * fingerprints (no key type known) or nothing known, the default order.
 */
export function hostKeyAlgorithmsFor(
  host: string,
  port: number,
  policy: HostKeyPolicy,
  log: (msg: string) => void = () => {},
): string[] {
  const all = [...DEFAULT_HOST_KEY_ALGORITHMS] as string[];
  if (policy.fingerprints && policy.fingerprints.length > 0) return all;
  const name = policy.alias ?? knownHostName(host, port);
  const known = new Set<string>();
  for (const e of knownEntriesFor(name, policy, () => {}, 'skip')) {
    if (e.marker === null) for (const a of algorithmsForKeyType(e.keyType)) known.add(a);
  }
  if (known.size === 0) return all;
  const first = all.filter((a) => known.has(a));
  log(`host key algorithms for ${name}: ${first.join(',')} first (known_hosts)`);
  return [...first, ...all.filter((a) => !known.has(a))];
}
