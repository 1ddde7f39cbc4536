import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/transport/errors.js';
import {
  fingerprintSha256,
  normalizeFingerprint,
  verifyHostKey,
} from '../../src/transport/host-key.js';
import {
  appendKnownHost,
  entryMatchesHost,
  knownHostName,
  matchHostPatterns,
  matchPattern,
  parseKnownHosts,
} from '../../src/transport/known-hosts.js';

/** A syntactically valid ssh-ed25519 blob with a recognisable filler byte. */
function edBlob(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const b = Buffer.alloc(4 + type.length + 4 + 32);
  b.writeUInt32BE(type.length, 0);
  type.copy(b, 4);
  b.writeUInt32BE(32, 4 + type.length);
  b.fill(fill, 8 + type.length);
  return b;
}
function rsaBlob(): Buffer {
  const type = Buffer.from('ssh-rsa');
  const b = Buffer.alloc(4 + type.length + 8);
  b.writeUInt32BE(type.length, 0);
  type.copy(b, 4);
  return b;
}
const K1 = edBlob(1);
const K2 = edBlob(2);
const b64 = (b: Buffer) => b.toString('base64');

const dir = mkdtempSync(join(tmpdir(), 'tv-kh-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('known_hosts patterns', () => {
  it('matches * and ? wildcards over the whole name', () => {
    expect(matchPattern('gw.example.org', '*.example.org')).toBe(true);
    expect(matchPattern('example.org', '*.example.org')).toBe(false);
    expect(matchPattern('host1', 'host?')).toBe(true);
    expect(matchPattern('host12', 'host?')).toBe(false);
    expect(matchPattern('[10.0.0.1]:2222', '[10.0.0.*]:2222')).toBe(true);
    expect(matchPattern('[10.0.0.1]:22222', '[10.0.0.*]:2222')).toBe(false);
    expect(matchPattern('abc', '*')).toBe(true);
    expect(matchPattern('aXbXc', 'a*b*c')).toBe(true);
  });

  it('lets a negated pattern veto a positive one and never matches on negation alone', () => {
    expect(matchHostPatterns('gw.example.org', '*.example.org,!gw.example.org')).toBe(false);
    expect(matchHostPatterns('db.example.org', '*.example.org,!gw.example.org')).toBe(true);
    expect(matchHostPatterns('db.example.org', '!gw.example.org')).toBe(false);
  });

  it('compares case-insensitively and uses [host]:port only for ports other than 22', () => {
    expect(knownHostName('GW.Example.org', 22)).toBe('gw.example.org');
    expect(knownHostName('198.18.0.2', 2222)).toBe('[198.18.0.2]:2222');
    expect(matchHostPatterns('gw.example.org', 'GW.EXAMPLE.ORG')).toBe(true);
  });
});

describe('parseKnownHosts', () => {
  it('parses plain, comma-listed, marked and hashed lines; skips comments and malformed lines', () => {
    const salt = Buffer.alloc(20, 9);
    const hash = createHmac('sha1', salt).update('[198.18.0.2]:2222').digest();
    const text = [
      '# a comment',
      '',
      `gw,198.18.0.2 ssh-ed25519 ${b64(K1)} some comment`,
      `@revoked * ssh-ed25519 ${b64(K2)}`,
      `@cert-authority *.example.org ssh-ed25519 ${b64(K1)}`,
      `|1|${b64(salt)}|${b64(hash)} ssh-ed25519 ${b64(K1)}`,
      'garbage',
      `host ssh-rsa ${b64(K1)}`, // type does not match the blob
      `host ssh-ed25519 not*base64`,
      `@bogus host ssh-ed25519 ${b64(K1)}`,
      `|1|short|hash ssh-ed25519 ${b64(K1)}`,
    ].join('\n');
    const skipped: number[] = [];
    const entries = parseKnownHosts(text, 'kh', (line) => skipped.push(line));
    expect(entries.map((e) => [e.line, e.marker, e.keyType, e.hashed !== null])).toEqual([
      [3, null, 'ssh-ed25519', false],
      [4, 'revoked', 'ssh-ed25519', false],
      [5, 'cert-authority', 'ssh-ed25519', false],
      [6, null, 'ssh-ed25519', true],
    ]);
    expect(entries[0].comment).toBe('some comment');
    expect(entries[0].key.equals(K1)).toBe(true);
    expect(skipped).toEqual([7, 8, 9, 10, 11]);
    expect(entryMatchesHost(entries[0], '198.18.0.2')).toBe(true);
    expect(entryMatchesHost(entries[0], '[198.18.0.2]:2222')).toBe(false);
    expect(entryMatchesHost(entries[3], '[198.18.0.2]:2222')).toBe(true);
    expect(entryMatchesHost(entries[3], '198.18.0.2')).toBe(false);
  });

  it('never throws on arbitrary input', () => {
    for (let i = 0; i < 200; i++) {
      const junk = Array.from({ length: 40 }, () =>
        String.fromCharCode(32 + Math.floor(Math.random() * 95)),
      ).join('');
      expect(() => parseKnownHosts(`${junk}\n@revoked ${junk}\n|1|${junk}`)).not.toThrow();
    }
  });
});

describe('verifyHostKey', () => {
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('accepts a matching entry and reports file:line', () => {
    const kh = file('ok', `# c\n[gw]:2222 ssh-ed25519 ${b64(K1)}\n`);
    expect(verifyHostKey('gw', 2222, K1, { knownHostsFiles: [kh] }).verifiedBy).toBe(
      `known_hosts ${kh}:2`,
    );
  });

  it('ignores entries for port 22 when connecting to another port', () => {
    const kh = file('port', `gw ssh-ed25519 ${b64(K2)}\n`);
    expect(() => verifyHostKey('gw', 2222, K1, { knownHostsFiles: [kh] })).toThrowError(
      expect.objectContaining({ code: 'HOST_KEY_UNKNOWN' }),
    );
  });

  it('refuses a revoked key even when a plain line matches', () => {
    const kh = file('rev', `gw ssh-ed25519 ${b64(K1)}\n@revoked gw ssh-ed25519 ${b64(K1)}\n`);
    expect(() => verifyHostKey('gw', 22, K1, { knownHostsFiles: [kh] })).toThrowError(
      expect.objectContaining({ code: 'HOST_KEY_REVOKED' }),
    );
  });

  it('treats a key of another type as unknown, not as changed, and mentions the known types', () => {
    const kh = file('types', `gw ssh-rsa ${b64(rsaBlob())}\n`);
    try {
      verifyHostKey('gw', 22, K1, { knownHostsFiles: [kh] });
      expect.unreachable();
    } catch (err) {
      expect((err as TransportError).code).toBe('HOST_KEY_UNKNOWN');
      expect((err as TransportError).message).toContain('keys of other types are known: RSA');
    }
  });

  it('refuses a changed key even with accept-new, and leaves the file alone', () => {
    const text = `gw ssh-ed25519 ${b64(K2)}\n`;
    const kh = file('changed', text);
    expect(() =>
      verifyHostKey('gw', 22, K1, { knownHostsFiles: [kh], acceptNew: true }),
    ).toThrowError(expect.objectContaining({ code: 'HOST_KEY_MISMATCH' }));
    expect(readFileSync(kh, 'utf8')).toBe(text);
  });

  it('notes and ignores @cert-authority lines', () => {
    const kh = file('ca', `@cert-authority gw ssh-ed25519 ${b64(K1)}\n`);
    const logs: string[] = [];
    expect(() =>
      verifyHostKey('gw', 22, K1, { knownHostsFiles: [kh] }, (m) => logs.push(m)),
    ).toThrow(TransportError);
    expect(logs).toEqual([`${kh}:1: @cert-authority entries are not supported; ignored`]);
  });

  it('consults every file and appends accept-new lines to the first one', () => {
    const a = file('multi-a', `no-newline-at-end ssh-ed25519 ${b64(K2)}`);
    const b = file('multi-b', `[gw]:2200 ssh-ed25519 ${b64(K1)}\n`);
    expect(verifyHostKey('gw', 2200, K1, { knownHostsFiles: [a, b] }).verifiedBy).toBe(
      `known_hosts ${b}:1`,
    );
    verifyHostKey('new', 2200, K1, { knownHostsFiles: [a, b], acceptNew: true });
    expect(readFileSync(a, 'utf8').split('\n')).toEqual([
      `no-newline-at-end ssh-ed25519 ${b64(K2)}`,
      `[new]:2200 ssh-ed25519 ${b64(K1)}`,
      '',
    ]);
  });

  it('pins fingerprints with or without padding and the SHA256: prefix', () => {
    const fp = fingerprintSha256(K1);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(normalizeFingerprint(`${fp.slice(7)}=`)).toBe(fp);
    const none = join(dir, 'absent');
    expect(
      verifyHostKey('gw', 22, K1, { knownHostsFiles: [none], fingerprints: [fp.slice(7)] })
        .verifiedBy,
    ).toBe('pinned fingerprint');
    expect(() =>
      verifyHostKey('gw', 22, K2, { knownHostsFiles: [none], fingerprints: [fp] }),
    ).toThrowError(expect.objectContaining({ code: 'HOST_KEY_MISMATCH' }));
  });

  it('appendKnownHost creates the file with mode 600', async () => {
    const p = join(dir, 'new', 'known_hosts');
    appendKnownHost(p, '[h]:1', K1);
    const { statSync } = await import('node:fs');
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });
});
