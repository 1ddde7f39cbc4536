/**
 * Seed inputs for the fuzzers: the pppd 2.4.9 captures in test/fixtures/pppd
 * (raw line bytes and the decoded frames, by protocol), the example and bad
 * configs, and a valid known_hosts file. Loaded once per process.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HdlcDeframer } from '../../src/hdlc/index.js';
import { PPPD_CAPTURES } from '../../test/support/pppd-captures.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const INTEROP_DIR = process.env.TS_VPN_INTEROP_DIR ?? PPPD_CAPTURES;

/** One decoded frame. */
export interface SeedFrame {
  protocol: number;
  info: Uint8Array;
}

export interface Corpus {
  /** Raw line bytes, one entry per capture direction. */
  streams: Uint8Array[];
  /** Every frame of every capture. */
  frames: SeedFrame[];
  /** Frames by protocol number. */
  byProtocol: Map<number, Uint8Array[]>;
  /** peer.yaml-shaped texts (examples and bad corpus). */
  peerYaml: string[];
  /** server.yaml-shaped texts. */
  serverYaml: string[];
  /** A valid known_hosts text and the key blobs in it. */
  knownHosts: string;
  hostKeys: Buffer[];
}

function readHex(file: string): Uint8Array {
  return Uint8Array.from(
    readFileSync(file, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );
}

/** An SSH wire-format public key blob (`string type, string key`). */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

export function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.concat([
    sshString(Buffer.from('ssh-ed25519')),
    sshString(der.subarray(der.length - 32)),
  ]);
}

let cached: Corpus | null = null;

export function loadCorpus(): Corpus {
  if (cached !== null) return cached;
  const streams: Uint8Array[] = [];
  const frames: SeedFrame[] = [];
  if (existsSync(INTEROP_DIR)) {
    for (const dir of readdirSync(INTEROP_DIR).sort()) {
      for (const f of ['a-to-b.hex', 'b-to-a.hex']) {
        const p = join(INTEROP_DIR, dir, f);
        if (!existsSync(p)) continue;
        const bytes = readHex(p);
        streams.push(bytes);
        const d = new HdlcDeframer(
          (protocol, info) => frames.push({ protocol, info: Uint8Array.from(info) }),
          {
            accm: 0,
            maxInfo: 4000,
          },
        );
        d.push(bytes);
      }
    }
  }
  if (frames.length === 0) {
    // No captures on this machine: a minimal built-in seed (LCP ConfReq of pppd).
    const info = Uint8Array.from([
      1, 1, 0, 20, 2, 6, 0, 0, 0, 0, 5, 6, 0x4b, 0xda, 0xd8, 0x97, 7, 2, 8, 2,
    ]);
    frames.push({ protocol: 0xc021, info });
    streams.push(Uint8Array.from([0x7e, 0xff, 0x03, 0xc0, 0x21, ...info, 0, 0, 0x7e]));
  }
  const byProtocol = new Map<number, Uint8Array[]>();
  for (const f of frames) {
    const l = byProtocol.get(f.protocol) ?? [];
    byProtocol.set(f.protocol, l);
    l.push(f.info);
  }
  const peerYaml = [readFileSync(join(ROOT, 'examples', 'peer.yaml'), 'utf8')];
  const serverYaml = [readFileSync(join(ROOT, 'examples', 'server.yaml'), 'utf8')];
  const bad = join(ROOT, 'test', 'config', 'bad');
  if (existsSync(bad)) {
    for (const f of readdirSync(bad).sort()) {
      if (!f.endsWith('.yaml')) continue;
      const text = readFileSync(join(bad, f), 'utf8').replaceAll(
        '__TMP__',
        '/tmp/ts-vpn-fuzz-none',
      );
      (f.startsWith('server-') ? serverYaml : peerYaml).push(text);
    }
  }
  const hostKeys = [ed25519Blob(), ed25519Blob()];
  const knownHosts = [
    '# comment',
    `gw.example.com,198.18.0.2 ssh-ed25519 ${hostKeys[0].toString('base64')} root@gw`,
    `[198.18.0.2]:2222 ssh-ed25519 ${hostKeys[1].toString('base64')}`,
    `@revoked old.example.com ssh-ed25519 ${hostKeys[1].toString('base64')}`,
    `@cert-authority *.example.com ssh-ed25519 ${hostKeys[0].toString('base64')}`,
    `|1|${Buffer.alloc(20, 7).toString('base64')}|${Buffer.alloc(20, 9).toString('base64')} ssh-ed25519 ${hostKeys[0].toString('base64')}`,
    `*.lan,!evil.lan ssh-ed25519 ${hostKeys[0].toString('base64')}`,
    '',
  ].join('\n');
  cached = { streams, frames, byProtocol, peerYaml, serverYaml, knownHosts, hostKeys };
  return cached;
}
